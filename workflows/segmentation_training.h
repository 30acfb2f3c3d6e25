#pragma once
// The one way a segmentation model is trained: revup-cli train, the demo and
// the GUI's Start button fill in a request and call train_segmentation. It
// builds the model (or, resuming, the run's own), the trainer's options, the
// loss, the augmentation and the validation, and trains at batch size 1 on
// whole, full-resolution images into a run folder (workflows/run_folder.h) that
// any of them can resume, predict with, evaluate and export. A new run that
// fails before its first epoch leaves no folder behind.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/step_measurement.h"
#include "core/trainer.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/segmentation_dataset.h"
#include "models/segmentation_net.h"
#include "workflows/segmentation_run.h"
#include "workflows/training_run.h"

namespace revup {

// A new run's model: a preset (models/segmentation_presets.h), adjusted; its
// channel and class counts follow the data.
struct SegmentationModelChoice {
  std::string preset = "cpu";
  bool injective_stem = false;
  // The GUI's knobs; unset, the preset's own.
  std::optional<double> lipschitz;            // c of each conv's spectral norm
  std::optional<int> fixed_point_iterations;  // N of MemSave's inverse
  std::optional<bool> memsave;                // off: plain autograd through the same blocks

  // dims 3: the preset's network over whole volumes (Conv3d), its patch
  // stem's strides following `spacing` (per axis, tensor order) when the
  // voxels are anisotropic (anisotropic_patch_strides).
  SegmentationConfig resolve(int64_t in_channels, int64_t num_classes, int64_t dims = 2,
                             const std::vector<double>& spacing = {}) const;
};

struct SegmentationTrainingRequest {
  // Resuming (run.resume), the run's own model, normalization and mask
  // reading win over `model` and the data's. An epoch: every training image
  // once, or steps_per_epoch of them.
  TrainingBasics run;
  SegmentationModelChoice model;
  int64_t steps_per_epoch = 0;
  double dice = 0.0;                        // weight of the soft Dice loss added to cross-entropy
  bool augment = true;                      // flips, 90-degree turns, intensity jitter
  double min_scale = 1.0, max_scale = 1.0;  // random rescale range
  // Train on random windows of these sizes (one per spatial axis) instead of
  // whole examples; empty: whole.
  std::vector<int64_t> window;
  // 3D: the memory a step may take, in MiB (0: the device's). A volume whose
  // estimated step needs more is refused before training starts.
  int64_t memory_limit_mib = 0;
  // Measure one step of ResNet+Fixup of the same depth and widths on the
  // first training image first (the GUI's memory chart draws it beside RevUp's).
  bool measure_baseline = false;
};

// What a run trains on, already read and normalized; each caller has its own
// source (a dataset folder, the image open in the window, the demo's scene).
struct SegmentationTrainingData {
  const Dataset* train = nullptr;
  // Scored after every epoch, deciding best.pt; null or empty: no validation.
  const Dataset* validation = nullptr;
  ClassTable classes;
  ChannelStats stats;           // the normalization the examples were given
  int64_t dims = 2;             // spatial axes of the examples: 3 for whole volumes
  std::vector<double> spacing;  // volumes: voxel spacing per axis, tensor order (D, H, W)
  // The classes validation is expected to score (ConfusionMatrix::expect_classes).
  std::vector<int64_t> expected_classes;
  nlohmann::json description = nlohmann::json::object();  // config.json's "data"
  nlohmann::json sections = nlohmann::json::object();     // more of config.json ("masks", ...)
  std::string source;  // for the start line: "from PATH, LAYOUT layout"
  // Resuming: the run as the caller read it to prepare the data (its
  // normalization, slice axis, mask reading); read here when not given.
  std::optional<SegmentationRunInfo> resumed;
};

struct TrainingStart {
  std::string run_dir;
  int resumed_after_epoch = 0;  // 0: a new run
  std::string summary;          // one line saying what trains on what
};

class SegmentationTrainingObserver : public TrainObserver {
 public:
  virtual void on_baseline(const StepMeasurement&) {}
  virtual void on_start(const TrainingStart&) {}
  // After each validation, in the training thread, the model in eval mode as
  // it was scored (copy what you keep) and its metrics; then on_epoch.
  virtual void on_validated(const SegmentationNet&, const std::map<std::string, double>&) {}
  // Each validation example's predicted class ids, when wanted.
  virtual bool wants_predictions() const { return false; }
  virtual void on_prediction(size_t /*index*/, const torch::Tensor& /*ids*/) {}
};

struct SegmentationTrainingResult {
  bool finished = false;  // all epochs ran (false: cancelled)
  int completed_epochs = 0;
  bool saved = false;  // last.pt holds completed_epochs
  std::map<std::string, double> last_metrics;
  std::optional<double> best_miou;  // with validation
  SegmentationNet net{nullptr};
};

// Throws std::runtime_error naming the problem (no training images, a run
// whose model does not fit the data, a volume whose 3D step would not fit in
// memory, an unwritable folder, bad data found mid-epoch).
SegmentationTrainingResult train_segmentation(const SegmentationTrainingRequest& request,
                                              const SegmentationTrainingData& data,
                                              SegmentationTrainingObserver& observer);

// revup-cli train's data: a dataset folder or manifest (any layout
// open_segmentation_dataset reads), split into training and validation by
// `options` (val_fraction, seed), read as the run was when resuming. Volumes
// train whole with a 3D model unless options.dims is 2 (a single volume is
// then also what validation scores: said in a note). Notes
// (how masks were read, a one-class validation split) go to `note(text,
// warning)` before training.
SegmentationTrainingResult train_segmentation(
    const SegmentationTrainingRequest& request, const std::string& data_path,
    DatasetOptions options, SegmentationTrainingObserver& observer,
    const std::function<void(const std::string&, bool)>& note = {});

}  // namespace revup
