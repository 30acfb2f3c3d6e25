#include "workflows/segmentation_run.h"

#include <filesystem>

#include "core/json_number.h"

namespace revup {
namespace fs = std::filesystem;

nlohmann::json segmentation_description(const nlohmann::json& model, const ClassTable& classes,
                                        const ChannelStats& stats, const nlohmann::json& data) {
  return {{"task", "segmentation"}, {"revup_version", REVUP_VERSION}, {"model", model},
          {"classes", classes},     {"normalization", stats},         {"data", data}};
}

SegmentationRunInfo read_segmentation_run(const std::string& dir) {
  SegmentationRunInfo run;
  run.dir = dir;
  run.config = run.folder().read_config();
  const auto config_path = run.folder().path(RunFolder::kConfig);
  const auto task = RunFolder::task_of(run.config);
  if (task != "segmentation") {
    throw std::runtime_error(config_path + ": not a segmentation run (task '" + task + "')");
  }
  try {
    run.model = SegmentationConfig::from_json(run.config.at("model"));
    run.classes = run.config.at("classes").get<ClassTable>();
    run.stats = run.config.at("normalization").get<ChannelStats>();
    if (run.config.contains("data")) {
      run.slice_axis = json_number(run.config["data"], "slice_axis", -1);
    }
    if (run.config.contains("masks")) run.masks = run.config.at("masks").get<MaskReading>();
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad segmentation run description (" + e.what() + ")");
  }
  if (run.classes.size() != run.model.num_classes) {
    throw std::runtime_error(config_path + ": " + std::to_string(run.classes.size()) +
                             " classes listed for a model with " +
                             std::to_string(run.model.num_classes));
  }
  // Inputs are normalized channel by channel before the model sees them.
  if (static_cast<int64_t>(run.stats.mean.size()) != run.model.backbone.in_channels) {
    throw std::runtime_error(config_path + ": normalization for " +
                             std::to_string(run.stats.mean.size()) +
                             " channels, for a model with " +
                             std::to_string(run.model.backbone.in_channels) + " input channels");
  }
  return run;
}

DatasetOptions SegmentationRunInfo::dataset_options() const {
  DatasetOptions options;
  options.stats = stats;  // the model's normalization, not the data's
  options.slice_axis = slice_axis;
  options.dims = static_cast<int>(model.backbone.dims);  // a 2D model reads volumes slice by slice
  if (masks) options.reading = DatasetOptions::FixedReading{*masks, classes};
  return options;
}

SegmentationNet load_segmentation_net(const SegmentationRunInfo& run, const std::string& which,
                                      const c10::Device& device) {
  auto model = run.model;
  // The checkpoint holds the probes: warming fresh ones up would be thrown
  // away (seconds per 3D block).
  model.backbone.sn.warmup_iterations = 0;
  SegmentationNet net(model);
  run.folder().load_model(*net, which);
  net->to(device);
  net->eval();
  return net;
}

LogitsFunction logits_function(SegmentationNet net, const c10::Device& device) {
  return [net, device](const torch::Tensor& x) mutable {
    return net->forward(x.to(device)).to(torch::kCPU);
  };
}

}  // namespace revup
