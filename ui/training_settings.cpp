#include "ui/training_settings.h"

#include "models/segmentation_presets.h"

namespace revup::ui {

SegmentationConfig TrainingSettings::modelConfig(int64_t inChannels, int64_t numClasses) const {
  auto config = segmentation_preset(preset, inChannels, numClasses);
  config.backbone.arch = memSave ? "revup-memsave" : "revup";
  config.backbone.sn.coeff = lipschitz;
  config.backbone.inverse.iterations = fixedPointIterations;
  config.validate();
  return config;
}

void to_json(nlohmann::json& j, const TrainingSettings& s) {
  j = {{"preset", s.preset},
       {"lipschitz", s.lipschitz},
       {"fixed_point_iterations", s.fixedPointIterations},
       {"memsave", s.memSave},
       {"lr", s.learningRate},
       {"epochs", s.epochs},
       {"augment", s.augment},
       {"device", s.device},
       {"seed", s.seed}};
}

void from_json(const nlohmann::json& j, TrainingSettings& s) {
  const TrainingSettings d;
  s.preset = j.value("preset", d.preset);
  s.lipschitz = j.value("lipschitz", d.lipschitz);
  s.fixedPointIterations = j.value("fixed_point_iterations", d.fixedPointIterations);
  s.memSave = j.value("memsave", d.memSave);
  s.learningRate = j.value("lr", d.learningRate);
  s.epochs = j.value("epochs", d.epochs);
  s.augment = j.value("augment", d.augment);
  s.device = j.value("device", d.device);
  s.seed = j.value("seed", d.seed);
}

}  // namespace revup::ui
