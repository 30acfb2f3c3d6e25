#pragma once
// What the training panel lets a user choose, and the network it describes.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "models/segmentation_net.h"
#include "workflows/segmentation_training.h"

namespace revup::ui {

struct TrainingSettings {
  std::string preset = "cpu";    // models/segmentation_presets.h
  double lipschitz = 0.9;        // c: each conv's spectral-norm bound
  int fixedPointIterations = 1;  // N used by MemSave's backward to rebuild inputs
  bool memSave = true;           // off: plain autograd through the same blocks
  // Zero-pad the image's channels instead of the stem's conv (the paper's
  // analysis model): the input image itself can then be rebuilt, at the cost
  // of a first stage at full resolution.
  bool injectiveStem = false;
  double learningRate = 0.02;
  // revup-cli train's --weight-decay, --dice and --clip-grad, with its defaults.
  double weightDecay = 1e-4;
  double diceWeight = 0.0;  // soft Dice added to cross-entropy: helps thin or rare classes
  double clipGrad = 0.0;    // gradient-norm clipping (0: off)
  int epochs = 100;         // an epoch is one pass over the labelled image (or slices)
  bool augment = true;
  // Volumes: train whole with a 3D model (off: a 2D model, slice by slice
  // along the axis shown), as revup-cli train's default and --dims 2.
  bool volumesIn3D = true;
  std::string device = "cpu";
  uint64_t seed = 0;

  // The preset with c, N, MemSave and the stem applied.
  SegmentationModelChoice modelChoice() const;
  // The preset for this input, with c, N and MemSave applied.
  SegmentationConfig modelConfig(int64_t inChannels, int64_t numClasses) const;
  // What the training workflow gets for a new run into `runDir`.
  SegmentationTrainingRequest trainingRequest(const std::string& runDir) const;
};

void to_json(nlohmann::json& j, const TrainingSettings& s);
void from_json(const nlohmann::json& j, TrainingSettings& s);

// The settings of the last training started, remembered between sessions
// (QSettings "training/settings"); the defaults when none or unreadable.
TrainingSettings rememberedTrainingSettings();
void rememberTrainingSettings(const TrainingSettings& settings);

}  // namespace revup::ui
