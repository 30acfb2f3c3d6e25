#include "ui/models/volume_prediction.h"

#include "workflows/segmentation_prediction.h"

namespace revup::ui {

torch::Tensor predictSlice(SegmentationNet& net, const Image& volume, const ChannelStats& stats,
                           int axis, int64_t index) {
  Image plane = volume;
  plane.pixels = volume.pixels.select(axis + 1, index);  // [C, D, H, W] -> [C, ., .]
  torch::NoGradGuard noGrad;
  return net->forward(normalize(plane, stats).unsqueeze(0)).argmax(1)[0];
}

bool writeVolumePrediction(const VolumePredictionJob& job, const TaskContext& context) {
  // The workflow revup-cli predict runs, with the model in training.
  SegmentationPredictor predictor;
  predictor.net = job.net;
  predictor.stats = job.stats;
  predictor.classes = job.classes;
  predictor.slice_axis = job.axis;
  predictor.dims = job.net->config().backbone.dims;  // a 3D model predicts the volume whole
  const auto ids = predict_segmentation(predictor, job.volume, [&](int64_t done, int64_t total) {
    context.setProgress(static_cast<int>(done), static_cast<int>(total));
    return !context.isCanceled();
  });
  if (!ids.defined()) return false;
  write_prediction(ids, predictor, job.volume, job.path);
  return true;
}

}  // namespace revup::ui
