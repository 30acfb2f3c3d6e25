#include "models/run_export.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/network.h"
#include "models/run_files.h"
#include "models/segmentation_net.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

nlohmann::json read_metrics(const std::string& run_dir) {
  const auto rows = read_run_metrics(run_dir);
  return {{"epochs", rows.size()},
          {"last", rows.empty() ? nlohmann::json(nullptr) : rows.back()},
          {"per_epoch", rows}};
}

// The config as written and the shape it resolves to, in the paper's terms.
nlohmann::json architecture(const ModelConfig& m) {
  int blocks = 0;
  for (int b : m.blocks_per_stage()) blocks += b;
  return {{"config", m.to_json()},
          {"resolved",
           {{"arch", m.arch},
            {"residual_blocks", blocks},
            {"blocks_per_stage", m.blocks_per_stage()},
            {"block", m.bottleneck() ? "bottleneck" : "basic"},
            {"widths", m.resolved_widths()},
            {"stem",
             m.injective_stem ? "injective" : (m.stem == "patch" ? "patch" : m.resolved_style())},
            {"stem_width", m.resolved_stem_width()},
            {"spectral_norm_c", m.sn.coeff},
            {"fixed_point_iterations", m.inverse.iterations},
            {"note",
             "spectral norm and fixed point are training-time: the export bakes the "
             "normalized weights and never inverts"}}}};
}

nlohmann::json training_summary(const std::string& run_dir, const nlohmann::json& config,
                                const std::string& checkpoint) {
  const auto empty = nlohmann::json::object();
  return {{"data", config.value("data", empty)},
          {"options", config.value("training", empty)},
          {"metrics", read_metrics(run_dir)},
          {"checkpoint", fs::path(checkpoint).filename().string()}};
}

// The classes and normalization stay as config.json holds them (what the
// trainer's ClassTable and ChannelStats wrote), so this needs no io types.
RunExportSource segmentation_source(const std::string& run_dir, const std::string& which,
                                    const nlohmann::json& config) {
  const auto config_path = (fs::path(run_dir) / "config.json").string();
  SegmentationConfig model;
  InputNormalization normalization;
  nlohmann::json classes;
  try {
    model = SegmentationConfig::from_json(config.at("model"));
    classes = config.at("classes");
    normalization.mean = config.at("normalization").at("mean").get<std::vector<double>>();
    normalization.std = config.at("normalization").at("std").get<std::vector<double>>();
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad segmentation run description (" + e.what() + ")");
  }
  const auto checkpoint = run_checkpoint_path(run_dir, which);
  SegmentationNet net(model);
  load_model_weights(*net, checkpoint);
  net->eval();
  RunExportSource s;
  s.graph = net->inference_graph(normalization);
  s.card.task = "segmentation";
  auto arch = architecture(model.backbone);
  arch["segmentation"] = model.to_json();
  s.card.architecture = arch;
  s.card.classes = classes;
  s.card.input_channels = model.backbone.in_channels;
  s.card.normalization = normalization;
  s.card.input_values =
      "raw pixel values as the image files hold them (0..255 for 8-bit images, the band values "
      "for rasters), one channel per band; NaN and nodata pixels are the caller's to replace "
      "(revup-cli predict sets them to the channel mean and marks them ignore)";
  s.card.training = training_summary(run_dir, config, checkpoint);
  return s;
}

// train-classifier's runs: Fashion-MNIST, pixels scaled to [0, 1] before its
// normalization; the export folds the scaling in, so it takes raw 0..255 values.
RunExportSource classification_source(const std::string& run_dir, const std::string& which,
                                      const nlohmann::json& config) {
  const auto config_path = (fs::path(run_dir) / "config.json").string();
  ModelConfig model;
  std::vector<double> mean, std;
  try {
    model = ModelConfig::from_json(config.at("model"));
    mean = config.at("normalization").at("mean").get<std::vector<double>>();
    std = config.at("normalization").at("std").get<std::vector<double>>();
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad classification run description (" + e.what() +
                             ")");
  }
  const auto checkpoint = run_checkpoint_path(run_dir, which);
  Network net(model);
  load_model_weights(*net, checkpoint);
  net->eval();
  InputNormalization normalization;
  for (auto& m : mean) normalization.mean.push_back(255.0 * m);
  for (auto& s : std) normalization.std.push_back(255.0 * s);
  RunExportSource s;
  s.graph = net->inference_graph(normalization);
  s.card.task = "classification";
  s.card.architecture = architecture(model);
  const std::vector<std::string> fashion_mnist = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  s.card.classes = model.num_classes == 10 ? nlohmann::json{{"names", fashion_mnist},
                                                            {"source", "Fashion-MNIST's labels"}}
                                           : nlohmann::json{{"count", model.num_classes}};
  s.card.input_channels = model.in_channels;
  s.card.normalization = normalization;
  s.card.input_values = "raw 8-bit pixel values 0..255";
  s.card.training = training_summary(run_dir, config, checkpoint);
  return s;
}

}  // namespace

RunExportSource run_export_source(const std::string& run_dir, const std::string& which) {
  const auto config = read_run_config(run_dir);
  return config.value("task", "classification") == "segmentation"
             ? segmentation_source(run_dir, which, config)
             : classification_source(run_dir, which, config);
}

}  // namespace revup
