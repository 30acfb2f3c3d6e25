#pragma once
// Predictions of the volume open in the window with the model in training:
// one plane for the viewer, or the whole volume written as a mask (the
// workflow revup-cli predict runs), for a BackgroundTask.
#include <string>

#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/image.h"
#include "models/segmentation_net.h"
#include "ui/models/background_task.h"

namespace revup::ui {

// [h, w] class ids of one slice of `volume` ([C, D, H, W]) along `axis`: the
// plane the viewer shows for that axis and index.
torch::Tensor predictSlice(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                           int axis, int64_t index);

struct VolumePredictionJob {
  SegmentationNet net{nullptr};  // used by the worker alone: pass a copy
  ChannelStats stats;
  Image volume;
  int axis = 0;
  ClassTable classes;
  std::string path;
};

// The whole volume by a 3D model, or every slice along the axis a 2D model
// was trained on (progress per slice),
// then the mask written atomically in the volume's format and geometry (NIfTI
// spacing, origin, direction). False when cancelled: nothing is written then.
// Throws naming the problem.
bool writeVolumePrediction(const VolumePredictionJob& job, const TaskContext& context);

}  // namespace revup::ui
