// revup-cli export: a trained run as a file other tools load (TorchScript,
// plain weights with the architecture as JSON, or ONNX for one fixed input
// size, in a build with io/onnx_export), with its model card. The
// exported model is the plain eval forward with the normalization statistics
// inside, so it takes raw pixel values; core checks what it wrote by reading it
// back before anything appears at the output path.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/run_folder.h"
#include "app/cli/segmentation_run.h"
#include "core/model_export.h"
#if REVUP_HAVE_ONNX_BOOL
#include "io/onnx_export.h"
#endif

namespace revup::cli {
namespace {
namespace fs = std::filesystem;

struct ExportOptions {
  std::string model, format, output, input_size, checkpoint = "best";
};

// The loaded model's graph and what the card says about it.
struct ExportSource {
  InferenceGraph graph;
  ModelCard card;
};

// "HxW" -> {H, W}.
std::vector<int64_t> parse_input_size(const std::string& text) {
  if (text.empty()) return {};
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(R"((\d{1,6})x(\d{1,6}))")) || std::stoll(m[1]) < 1 ||
      std::stoll(m[2]) < 1) {
    throw std::invalid_argument("--input-size must be HxW (e.g. 512x512), got '" + text + "'");
  }
  return {std::stoll(m[1]), std::stoll(m[2])};
}

// metrics.csv: every epoch's row, numbers as numbers.
nlohmann::json read_metrics(const std::string& run_dir) {
  std::ifstream in(fs::path(run_dir) / "metrics.csv");
  std::string line;
  if (!std::getline(in, line)) return nullptr;
  std::vector<std::string> columns;
  std::stringstream header(line);
  for (std::string c; std::getline(header, c, ',');) columns.push_back(c);
  auto rows = nlohmann::json::array();
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    nlohmann::json row;
    size_t i = 0;
    for (std::string cell; std::getline(cells, cell, ',') && i < columns.size(); ++i) {
      try {
        size_t used = 0;
        const double v = std::stod(cell, &used);
        row[columns[i]] = used == cell.size() ? nlohmann::json(v) : nlohmann::json(cell);
      } catch (const std::exception&) {
        row[columns[i]] = cell;
      }
    }
    rows.push_back(row);
  }
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

ExportSource segmentation_source(const ExportOptions& o) {
  const auto run = read_segmentation_run(o.model);
  const auto checkpoint = run_checkpoint(run, o.checkpoint);
  auto net = load_segmentation_net(run, o.checkpoint, torch::kCPU);
  ExportSource s;
  const InputNormalization normalization{run.stats.mean, run.stats.std};
  s.graph = net->inference_graph(normalization);
  s.card.task = "segmentation";
  auto arch = architecture(run.model.backbone);
  arch["segmentation"] = run.model.to_json();
  s.card.architecture = arch;
  s.card.classes = run.classes;
  s.card.input_channels = run.model.backbone.in_channels;
  s.card.normalization = normalization;
  s.card.input_values =
      "raw pixel values as the image files hold them (0..255 for 8-bit images, the band values "
      "for rasters), one channel per band; NaN and nodata pixels are the caller's to replace "
      "(revup-cli predict sets them to the channel mean and marks them ignore)";
  s.card.training = training_summary(o.model, run.config, checkpoint);
  return s;
}

// train-classifier's runs: Fashion-MNIST, pixels scaled to [0, 1] before its
// normalization; the export folds the scaling in, so it takes raw 0..255 values.
ExportSource classification_source(const ExportOptions& o, const nlohmann::json& config) {
  const auto config_path = (fs::path(o.model) / "config.json").string();
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
  if (o.checkpoint != "best" && o.checkpoint != "last") {
    throw std::invalid_argument("--checkpoint must be best or last, got '" + o.checkpoint + "'");
  }
  auto checkpoint = (fs::path(o.model) / (o.checkpoint + ".pt")).string();
  if (!fs::exists(checkpoint)) checkpoint = (fs::path(o.model) / "last.pt").string();
  Network net(model);
  load_model_weights(*net, checkpoint);
  net->eval();
  InputNormalization normalization;
  for (auto& m : mean) normalization.mean.push_back(255.0 * m);
  for (auto& s : std) normalization.std.push_back(255.0 * s);
  ExportSource s;
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
  s.card.training = training_summary(o.model, config, checkpoint);
  return s;
}

void run_export(const ExportOptions& o) {
  const auto format = export_format_from_name(o.format);
  if (!export_format_available(format)) {
    throw std::runtime_error("--format " + o.format + ": this build has no " + o.format +
                             " support (it needs libonnx-dev and OpenCV's dnn module at "
                             "configure time; REVUP_WITH_ONNX)");
  }
  const auto input_size = parse_input_size(o.input_size);
  if (format == ExportFormat::kOnnx && input_size.empty()) {
    throw std::invalid_argument(
        "--format onnx needs --input-size HxW: an ONNX model is made for one fixed input size "
        "(OpenCV's DNN wants static shapes)");
  }
  // Before loading anything: a path that cannot be written fails fast.
  const fs::path out(o.output);
  const auto folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(folder)) {
    throw std::runtime_error(o.output + ": cannot write, folder " + folder.string() +
                             " does not exist");
  }
  const auto config = read_run_config(o.model);
  auto source = config.value("task", "classification") == "segmentation"
                    ? segmentation_source(o)
                    : classification_source(o, config);
  source.card.input_size = input_size;
  source.card.tool_version = REVUP_VERSION;
  const auto report = write_export(source.graph, format, o.output, source.card);
  std::printf("exported %s as %s: %zu ops, %zu tensors, takes raw pixel values\n", o.model.c_str(),
              export_format_name(format), source.graph.ops().size(), source.graph.tensors().size());
  if (format == ExportFormat::kTorchScript) {
    std::printf(
        "checked: read back with torch::jit::load, max abs difference %.3g on a random "
        "[%s] input\n",
        report.max_abs_difference, c10::str(report.checked_input).c_str());
  } else if (format == ExportFormat::kOnnx) {
    std::printf(
        "checked: the ONNX checker passed; read back with cv::dnn::readNetFromONNX, max abs "
        "difference %.3g on a random [%s] input (tolerance 1e-4)\n",
        report.max_abs_difference, c10::str(report.checked_input).c_str());
  } else {
    std::printf("checked: read back with torch::pickle_load, every tensor equal\n");
  }
  for (const auto& f : report.files) std::printf("wrote %s\n", f.c_str());
}

}  // namespace

void add_export_command(CLI::App& app) {
#if REVUP_HAVE_ONNX_BOOL
  register_onnx_export();  // into core's export registry: write_export then knows "onnx"
#endif
  auto* cmd =
      app.add_subcommand("export", "Write a trained model for other tools, with its model card");
  auto o = std::make_shared<ExportOptions>();
  cmd->add_option("--model", o->model, "Run folder written by train or train-classifier")
      ->required();
  cmd->add_option("--format", o->format,
                  "torchscript (.pt for torch.jit.load), weights (.pth for torch.load, plus "
                  "the architecture as JSON) or onnx (.onnx, opset 11, for one --input-size; "
                  "checked with OpenCV's DNN)")
      ->required();
  cmd->add_option("--output", o->output, "File to write; the model card goes beside it")
      ->required();
  cmd->add_option("--input-size", o->input_size,
                  "HxW the export is made and checked for (required for onnx; TorchScript "
                  "and weights run at any size)");
  cmd->add_option("--checkpoint", o->checkpoint, "best or last")->capture_default_str();
  cmd->callback([o] { run_export(*o); });
}

}  // namespace revup::cli
