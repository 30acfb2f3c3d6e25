#pragma once
// Training a segmentation network on the image open in the window, without
// any Qt: the GUI's worker runs it and turns what it reports into signals;
// tests run it directly. The image and its painted labels become the data of
// the same workflow revup-cli train runs (runs/segmentation_training.h), so
// the run folder is an ordinary one: `revup-cli predict / evaluate / export`
// and `train --resume` work on what the GUI trained.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/image.h"
#include "models/segmentation_net.h"
#include "ui/models/training_settings.h"
#include "workflows/segmentation_training.h"

namespace revup::ui {

struct TrainingJobInput {
  Image image;
  torch::Tensor labels;  // [H, W] or [D, H, W] int64, classes.ignore_index = unlabelled
  ClassTable classes;
  int sliceAxis = 0;  // volumes trained slice by slice (settings.volumesIn3D off)
  TrainingSettings settings;
  std::string runDir;
  bool resume = false;
  // Measure one step of ResNet+Fixup of the same depth and widths on the same
  // input first: the curve the memory chart draws next to RevUp's.
  bool measureBaseline = true;
};

// The model after an epoch, for predictions and reconstructions made while
// training goes on (a copy: the worker keeps training its own).
struct ModelSnapshot {
  SegmentationNet net{nullptr};
  int epoch = 0;
  ChannelStats stats;  // normalization the model expects
  std::map<std::string, double> metrics;
  // Class ids of the whole image: [H, W] for 2D images, [D, H, W] for a
  // volume trained whole in 3D. Volumes trained slice by slice: undefined
  // (the window predicts the slice shown from `net`).
  torch::Tensor prediction;
};

// An independent copy of `net` in eval mode, on the CPU: for a thread of its
// own (modules are not safe to run from two threads at once).
SegmentationNet evalCopy(const SegmentationNet& net);

class TrainingJobObserver : public SegmentationTrainingObserver {
 public:
  virtual void on_snapshot(std::shared_ptr<const ModelSnapshot>) {}
};

// Trains in the calling thread until settings.epochs or the observer's
// cancel_requested(); true when all epochs ran. Throws std::runtime_error
// naming the problem (nothing labelled, bad sizes, unwritable run folder).
bool runTrainingJob(const TrainingJobInput& input, TrainingJobObserver& observer);

}  // namespace revup::ui
