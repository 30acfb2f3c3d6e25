#pragma once
// The predict and evaluate workflows: a trained segmentation model over an
// image, a volume or a labelled dataset. revup-cli predict and evaluate call
// them with a run folder; the GUI predicts volumes with the model it is
// training through the same function.
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/confusion_matrix.h"
#include "core/segmentation_inference.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/image.h"
#include "io/mask_values.h"
#include "models/segmentation_net.h"
#include "workflows/segmentation_run.h"

namespace revup {

// A model ready to predict: in eval mode on `device`, with the normalization
// and classes it was trained with.
struct SegmentationPredictor {
  std::string name;  // its run folder, for messages ("" for the GUI's model in training)
  SegmentationNet net{nullptr};
  c10::Device device = torch::kCPU;
  ChannelStats stats;
  ClassTable classes;
  int64_t dims = 2;                     // 3: a volumetric model, predicting whole volumes
  std::vector<int64_t> trained_window;  // the windows it trained on (--window); empty: whole
  int slice_axis = 0;                   // volumes, 2D models: the axis the model was trained along
  std::optional<MaskReading> masks;     // how its masks were read (values to write back)
  TileOptions tiles;
};

// RUN_DIR's `which` checkpoint ("best" or "last") on `device`. Throws naming
// the file and the problem.
SegmentationPredictor open_predictor(const std::string& run_dir, const std::string& which,
                                     const c10::Device& device);

// Class ids [H, W] of a 2D image, or [D, H, W] of a volume: whole by a 3D
// model (a sliding window of predictor.tiles when set), slice by slice along
// the model's axis by a 2D one (`on_slice(done, total)` before the first and
// after each, a 3D model's volume counting as one; false stops, and the
// result is then undefined). Nodata and NaN pixels carry no
// prediction: they get the ignore value. Throws naming the image when its
// channels are not the model's.
torch::Tensor predict_segmentation(const SegmentationPredictor& predictor, const Image& image,
                                   const std::function<bool(int64_t, int64_t)>& on_slice = {});

// Writes `ids` in the values of the masks the model learnt from (a model
// trained on 0/255 masks writes 0/255, on colour masks their colours), as
// class ids where they were not recorded; the format follows the extension,
// with the geometry of `reference`. Atomic.
void write_prediction(const torch::Tensor& ids, const SegmentationPredictor& predictor,
                      const Image& reference, const std::string& path);

struct RunEvaluationRequest {
  std::string run_dir, data;  // a run folder; a dataset as train reads it
  std::string which = "best";
  bool validation_split_only = false;  // the run's own validation split (same fraction, seed)
  std::string device = "cpu";
  TileOptions tiles;
};

struct RunEvaluation {
  ConfusionMatrix confusion{1, -1};
  size_t images = 0;
  bool volumes = false;    // whole volumes (a 3D model), not images or slices
  std::string checkpoint;  // the file evaluated
  ClassTable classes;
};

// Scores a run on labelled data, read as the run was trained (its
// normalization, slice axis and mask values). `progress(done, total)` before
// the first image and after each.
RunEvaluation evaluate_run(const RunEvaluationRequest& request,
                           const std::function<void(size_t, size_t)>& progress = {});

}  // namespace revup
