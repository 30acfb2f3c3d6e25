#include "workflows/run_export.h"

#include <filesystem>

#include "models/network.h"
#include "models/segmentation_net.h"
#include "workflows/output_path.h"
#include "workflows/run_folder.h"
#ifdef REVUP_HAVE_ONNX_EXPORT
#include "io/onnx_export.h"
#endif

namespace revup {
namespace {
namespace fs = std::filesystem;

nlohmann::json read_metrics(const RunFolder& run) {
  const auto rows = run.read_metrics().to_json();
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

nlohmann::json training_summary(const RunFolder& run, const nlohmann::json& config,
                                const std::string& checkpoint) {
  const auto empty = nlohmann::json::object();
  return {{"data", config.value("data", empty)},
          {"options", config.value("training", empty)},
          {"metrics", read_metrics(run)},
          {"checkpoint", fs::path(checkpoint).filename().string()}};
}

// The classes and normalization stay as config.json holds them (what the
// trainer's ClassTable and ChannelStats wrote), so this needs no io types.
RunExportSource segmentation_source(const RunFolder& run, const std::string& which,
                                    const nlohmann::json& config) {
  const auto config_path = run.path(RunFolder::kConfig);
  SegmentationConfig model;
  InputNormalization normalization;
  nlohmann::json classes;
  try {
    model = SegmentationConfig::from_json(config.at("model"));
    classes = config.at("classes");
    normalization.mean = config.at("normalization").at("mean").get<std::vector<double>>();
    normalization.std = config.at("normalization").at("std").get<std::vector<double>>();
    normalization.per_image = config.at("normalization").value("per_image", false);
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad segmentation run description (" + e.what() + ")");
  }
  const auto checkpoint = run.checkpoint(which);
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
  s.card.training = training_summary(run, config, checkpoint);
  return s;
}

// train-classifier's runs: Fashion-MNIST, pixels scaled to [0, 1] before its
// normalization; the export folds the scaling in, so it takes raw 0..255 values.
RunExportSource classification_source(const RunFolder& run, const std::string& which,
                                      const nlohmann::json& config) {
  const auto config_path = run.path(RunFolder::kConfig);
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
  const auto checkpoint = run.checkpoint(which);
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
  // The dataset's class names as train-classifier recorded them; runs
  // written before it did carry only the count.
  s.card.classes =
      config.contains("classes") ? config["classes"] : nlohmann::json{{"count", model.num_classes}};
  s.card.input_channels = model.in_channels;
  s.card.normalization = normalization;
  s.card.input_values = "raw 8-bit pixel values 0..255";
  s.card.training = training_summary(run, config, checkpoint);
  return s;
}

}  // namespace

RunExportSource run_export_source(const std::string& run_dir, const std::string& which) {
  const RunFolder run(run_dir);
  const auto config = run.read_config();
  return RunFolder::task_of(config) == "segmentation" ? segmentation_source(run, which, config)
                                                      : classification_source(run, which, config);
}

namespace {
// The formats whose libraries core must not see, into core's export registry,
// once: write_export then knows "onnx" where this build has it.
void register_export_formats() {
#ifdef REVUP_HAVE_ONNX_EXPORT
  static const bool registered = [] {
    register_onnx_export();
    return true;
  }();
  (void)registered;
#endif
}
}  // namespace

std::vector<std::string> available_export_formats() {
  register_export_formats();
  std::vector<std::string> names;
  for (const auto f : {ExportFormat::kTorchScript, ExportFormat::kWeights, ExportFormat::kOnnx}) {
    if (export_format_available(f)) names.push_back(export_format_name(f));
  }
  return names;
}

RunExportResult export_run(const RunExportRequest& request) {
  register_export_formats();
  const auto format = export_format_from_name(request.format);
  if (!export_format_available(format)) {
    throw std::runtime_error("--format " + request.format + ": this build has no " +
                             request.format +
                             " support (it needs libonnx-dev and OpenCV's dnn module at "
                             "configure time; REVUP_WITH_ONNX)");
  }
  if (format == ExportFormat::kOnnx && request.input_size.empty()) {
    throw std::invalid_argument(
        "--format onnx needs --input-size HxW: an ONNX model is made for one fixed input size "
        "(OpenCV's DNN wants static shapes)");
  }
  // Before loading anything: a path that cannot be written fails fast.
  check_output_folder(request.output);
  auto source = run_export_source(request.run_dir, request.which);
  const bool volumes = source.graph.spatial_dims() == 3;
  if (format == ExportFormat::kOnnx && volumes) {
    throw std::invalid_argument(
        request.run_dir +
        ": --format onnx: ONNX export of 3D models is not supported yet (OpenCV's DNN, which "
        "checks an ONNX file here, cannot run this 3D network); use --format torchscript or "
        "weights");
  }
  if (!request.input_size.empty() && request.input_size.size() != (volumes ? 3u : 2u)) {
    throw std::invalid_argument(request.run_dir + ": --input-size: " +
                                (volumes ? "a 3D model takes DxHxW" : "a 2D model takes HxW"));
  }
  source.card.input_size = request.input_size;
  source.card.tool_version = REVUP_VERSION;
  RunExportResult result;
  result.report = write_export(source.graph, format, request.output, source.card);
  result.graph_ops = source.graph.ops().size();
  result.graph_tensors = source.graph.tensors().size();
  return result;
}

}  // namespace revup
