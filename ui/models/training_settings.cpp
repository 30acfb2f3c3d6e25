#include "ui/models/training_settings.h"

#include <QSettings>

#include "core/json_number.h"

namespace revup::ui {

SegmentationModelChoice TrainingSettings::modelChoice() const {
  SegmentationModelChoice choice;
  choice.preset = preset;
  choice.injective_stem = injectiveStem;
  choice.lipschitz = lipschitz;
  choice.fixed_point_iterations = fixedPointIterations;
  choice.memsave = memSave;
  return choice;
}

SegmentationConfig TrainingSettings::modelConfig(int64_t inChannels, int64_t numClasses) const {
  return modelChoice().resolve(inChannels, numClasses);
}

SegmentationTrainingRequest TrainingSettings::trainingRequest(const std::string& runDir) const {
  SegmentationTrainingRequest request;
  request.run.run_dir = runDir;
  request.run.epochs = epochs;
  request.run.lr = learningRate;
  request.run.weight_decay = weightDecay;
  request.run.clip_grad = clipGrad;
  request.run.seed = seed;
  request.run.device = device;
  request.model = modelChoice();
  request.dice = diceWeight;
  request.augment = augment;
  return request;
}

void to_json(nlohmann::json& j, const TrainingSettings& s) {
  j = {{"preset", s.preset},
       {"lipschitz", s.lipschitz},
       {"fixed_point_iterations", s.fixedPointIterations},
       {"memsave", s.memSave},
       {"injective_stem", s.injectiveStem},
       {"lr", s.learningRate},
       {"weight_decay", s.weightDecay},
       {"dice", s.diceWeight},
       {"clip_grad", s.clipGrad},
       {"epochs", s.epochs},
       {"augment", s.augment},
       {"volumes_in_3d", s.volumesIn3D},
       {"device", s.device},
       {"seed", s.seed}};
}

void from_json(const nlohmann::json& j, TrainingSettings& s) {
  const TrainingSettings d;
  s.preset = j.value("preset", d.preset);
  s.lipschitz = j.value("lipschitz", d.lipschitz);
  s.fixedPointIterations = json_number(j, "fixed_point_iterations", d.fixedPointIterations);
  s.memSave = j.value("memsave", d.memSave);
  s.injectiveStem = j.value("injective_stem", d.injectiveStem);
  s.learningRate = j.value("lr", d.learningRate);
  s.weightDecay = j.value("weight_decay", d.weightDecay);
  s.diceWeight = j.value("dice", d.diceWeight);
  s.clipGrad = j.value("clip_grad", d.clipGrad);
  s.epochs = json_number(j, "epochs", d.epochs);
  s.augment = j.value("augment", d.augment);
  s.volumesIn3D = j.value("volumes_in_3d", d.volumesIn3D);
  s.device = j.value("device", d.device);
  s.seed = json_number(j, "seed", d.seed);
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
