#include "app/cli/segmentation_run.h"

#include <csignal>
#include <filesystem>

#include "app/cli/commands.h"
#include "app/cli/run_folder.h"

namespace revup::cli {
namespace fs = std::filesystem;

SegmentationRunInfo read_segmentation_run(const std::string& dir) {
  SegmentationRunInfo run;
  run.dir = dir;
  run.config = read_run_config(dir);
  const auto config_path = (fs::path(dir) / "config.json").string();
  if (run.config.value("task", "") != "segmentation") {
    throw std::runtime_error(config_path + ": not a segmentation run (task '" +
                             run.config.value("task", "classification") + "')");
  }
  try {
    run.model = SegmentationConfig::from_json(run.config.at("model"));
    run.classes = run.config.at("classes").get<ClassTable>();
    run.stats = run.config.at("normalization").get<ChannelStats>();
    if (run.config.contains("data")) run.slice_axis = run.config["data"].value("slice_axis", -1);
    if (run.config.contains("masks")) run.masks = run.config.at("masks").get<MaskReading>();
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad segmentation run description (" + e.what() + ")");
  }
  if (run.classes.size() != run.model.num_classes) {
    throw std::runtime_error(config_path + ": " + std::to_string(run.classes.size()) +
                             " classes listed for a model with " +
                             std::to_string(run.model.num_classes));
  }
  return run;
}

DatasetOptions SegmentationRunInfo::dataset_options() const {
  DatasetOptions options;
  options.stats = stats;  // the model's normalization, not the data's
  options.slice_axis = slice_axis;
  if (masks) options.reading = DatasetOptions::FixedReading{*masks, classes};
  return options;
}

SegmentationNet load_segmentation_net(const SegmentationRunInfo& run, const std::string& which,
                                      const c10::Device& device) {
  SegmentationNet net(run.model);
  load_model_weights(*net, run_checkpoint_path(run.dir, which));
  net->to(device);
  net->eval();
  return net;
}

void check_output_folder(const std::string& path, bool may_create) {
  std::error_code ec;
  if (may_create) {
    if (fs::exists(path, ec) && !fs::is_directory(path, ec)) {
      throw std::runtime_error(path + ": cannot write a run there, it is a file, not a folder");
    }
    return;
  }
  if (fs::is_directory(path, ec)) {
    throw std::runtime_error(path + ": cannot write, it is a folder");
  }
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(path + ": cannot write, folder " + dir.string() + " does not exist");
  }
}

void ignore_file_size_signal() { std::signal(SIGXFSZ, SIG_IGN); }

LogitsFunction logits_function(SegmentationNet net, const c10::Device& device) {
  return [net, device](const torch::Tensor& x) mutable {
    return net->forward(x.to(device)).to(torch::kCPU);
  };
}

}  // namespace revup::cli
