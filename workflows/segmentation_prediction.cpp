#include "workflows/segmentation_prediction.h"

#include "core/device.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "io/segmentation_dataset.h"

namespace revup {

SegmentationPredictor open_predictor(const std::string& run_dir, const std::string& which,
                                     const c10::Device& device) {
  const auto run = read_segmentation_run(run_dir);
  SegmentationPredictor p;
  p.name = run_dir;
  p.net = load_segmentation_net(run, which, device);
  p.device = device;
  p.stats = run.stats;
  p.classes = run.classes;
  p.dims = run.model.backbone.dims;
  const auto request = run.config.value("training_request", nlohmann::json::object());
  if (request.contains("window") && request["window"].is_array()) {
    for (const auto& v : request["window"]) {
      if (v.is_number_integer()) p.trained_window.push_back(v.get<int64_t>());
    }
  }
  p.slice_axis = run.slice_axis >= 0 ? run.slice_axis : 0;
  p.masks = run.masks;
  return p;
}

torch::Tensor predict_segmentation(const SegmentationPredictor& p, const Image& image,
                                   const std::function<bool(int64_t, int64_t)>& on_slice) {
  if (image.channels() != static_cast<int64_t>(p.stats.mean.size())) {
    throw std::runtime_error(image.path + ": has " + std::to_string(image.channels()) +
                             " channels; the model" + (p.name.empty() ? "" : " in " + p.name) +
                             " takes " + std::to_string(p.stats.mean.size()));
  }
  if (p.dims == 3 && !image.is_volume()) {
    throw std::runtime_error(image.path + ": a 2D image; the model" +
                             (p.name.empty() ? "" : " in " + p.name) +
                             " is volumetric (3D) and predicts volumes");
  }
  const auto logits = logits_function(p.net, p.device);
  const auto x = normalize(image, p.stats);
  const auto class_ids = [&](const torch::Tensor& input) {
    return predict_logits(logits, input, p.tiles).argmax(0);
  };
  torch::Tensor ids;
  if (p.dims == 3) {
    if (on_slice && !on_slice(0, 1)) return {};
    ids = class_ids(x);
    if (on_slice && !on_slice(1, 1)) return {};
  } else {
    // Volumes: slice-wise along the axis the model was trained on; x is [C, D, H, W].
    if (image.is_volume() && on_slice && !on_slice(0, x.size(p.slice_axis + 1))) return {};
    ids = image.is_volume() ? predict_volume_slices(x, p.slice_axis, class_ids, on_slice)
                            : class_ids(x);
  }
  if (!ids.defined()) return ids;  // stopped
  ids.masked_fill_(valid_pixels(image).logical_not(), p.classes.ignore_index);
  return ids;
}

void write_prediction(const torch::Tensor& ids, const SegmentationPredictor& p,
                      const Image& reference, const std::string& path) {
  if (p.masks && p.masks->colour) {
    Image coloured = reference;
    coloured.pixels = colorize(ids, p.classes);
    write_image(coloured, path);
  } else {
    write_mask(p.masks ? p.masks->to_values(ids) : ids, p.classes, reference, path);
  }
}

RunEvaluation evaluate_run(const RunEvaluationRequest& request,
                           const std::function<void(size_t, size_t)>& progress) {
  const auto device = select_device(request.device);
  const auto run = read_segmentation_run(request.run_dir);
  auto options = run.dataset_options();
  if (request.validation_split_only) {
    // The run's own split: the same fraction and seed give the same images.
    const auto empty = nlohmann::json::object();
    options.val_fraction = run.config.value("data", empty).value("val_fraction", 0.2);
    options.seed = run.config.value("training", empty).value("seed", uint64_t{0});
  }
  const auto data = open_segmentation_dataset(request.data, options);
  if (data->classes().size() != run.classes.size()) {
    throw std::runtime_error(request.data + ": has " + std::to_string(data->classes().size()) +
                             " classes; the model in " + request.run_dir + " predicts " +
                             std::to_string(run.classes.size()));
  }
  const auto indices =
      request.validation_split_only ? data->split().val : all_indices(data->size());
  const SubsetDataset subset(*data, indices);
  const auto net = load_segmentation_net(run, request.which, device);
  if (progress) progress(0, subset.size());
  RunEvaluation result;
  result.confusion = evaluate_segmentation(logits_function(net, device), subset, run.classes.size(),
                                           run.classes.ignore_index, request.tiles, progress);
  result.confusion.expect_classes(present_classes(*data));
  result.images = subset.size();
  result.volumes = data->dims() == 3;
  result.checkpoint = run.folder().checkpoint(request.which);
  result.classes = run.classes;
  return result;
}

}  // namespace revup
