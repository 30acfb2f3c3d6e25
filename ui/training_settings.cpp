#include "ui/training_settings.h"

#include <QSettings>

#include "models/segmentation_presets.h"

namespace revup::ui {

SegmentationConfig TrainingSettings::modelConfig(int64_t inChannels, int64_t numClasses) const {
  auto config = segmentation_preset(preset, inChannels, numClasses);
  config.backbone.arch = memSave ? "revup-memsave" : "revup";
  config.backbone.sn.coeff = lipschitz;
  config.backbone.inverse.iterations = fixedPointIterations;
  if (injectiveStem) use_injective_stem(config);
  config.validate();
  return config;
}

void to_json(nlohmann::json& j, const TrainingSettings& s) {
  j = {{"preset", s.preset},
       {"lipschitz", s.lipschitz},
       {"fixed_point_iterations", s.fixedPointIterations},
       {"memsave", s.memSave},
       {"injective_stem", s.injectiveStem},
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
  s.injectiveStem = j.value("injective_stem", d.injectiveStem);
  s.learningRate = j.value("lr", d.learningRate);
  s.epochs = j.value("epochs", d.epochs);
  s.augment = j.value("augment", d.augment);
  s.device = j.value("device", d.device);
  s.seed = j.value("seed", d.seed);
}

TrainingSettings rememberedTrainingSettings() {
  const QByteArray text = QSettings().value("training/settings").toByteArray();
  TrainingSettings settings;
  if (text.isEmpty()) return settings;
  try {
    settings = nlohmann::json::parse(text.toStdString()).get<TrainingSettings>();
  } catch (const std::exception&) {
    // Written by another version, or edited by hand: the defaults are safe.
  }
  return settings;
}

void rememberTrainingSettings(const TrainingSettings& settings) {
  QSettings().setValue("training/settings",
                       QByteArray::fromStdString(nlohmann::json(settings).dump()));
}

}  // namespace revup::ui
