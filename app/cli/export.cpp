// revup-cli export: a trained run as a file other tools load (TorchScript,
// plain weights with the architecture as JSON, or ONNX for one fixed input
// size, in a build with io/onnx_export), with its model card. The
// exported model is the plain eval forward with the normalization statistics
// inside, so it takes raw pixel values; core checks what it wrote by reading it
// back before anything appears at the output path.
#include <torch/torch.h>

#include <cstdio>
#include <regex>

#include "app/cli/commands.h"
#include "core/model_export.h"
#include "workflows/run_export.h"

namespace revup::cli {
namespace {

struct ExportOptions {
  std::string model, format, output, input_size, checkpoint = "best";
};

// "HxW" -> {H, W}; "DxHxW" (3D models) -> {D, H, W}.
std::vector<int64_t> parse_input_size(const std::string& text) {
  if (text.empty()) return {};
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(R"((\d{1,6})x(\d{1,6})(?:x(\d{1,6}))?)"))) {
    throw std::invalid_argument(
        "--input-size must be HxW (e.g. 512x512), or DxHxW for a 3D model, got '" + text + "'");
  }
  std::vector<int64_t> size;
  for (size_t i = 1; i < m.size(); ++i) {
    if (!m[i].matched) continue;
    size.push_back(std::stoll(m[i]));
    if (size.back() < 1) throw std::invalid_argument("--input-size: sizes must be >= 1");
  }
  return size;
}

void run_export(const ExportOptions& o) {
  const auto format = export_format_from_name(o.format);
  const auto exported =
      export_run({o.model, o.checkpoint, o.format, o.output, parse_input_size(o.input_size)});
  const auto& report = exported.report;
  std::printf("exported %s as %s: %zu ops, %zu tensors, takes raw pixel values\n", o.model.c_str(),
              export_format_name(format), exported.graph_ops, exported.graph_tensors);
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
                  "HxW (DxHxW for a 3D model) the export is made and checked for (required "
                  "for onnx; TorchScript and weights run at any size)");
  cmd->add_option("--checkpoint", o->checkpoint, "best or last")->capture_default_str();
  cmd->callback([o] { run_export(*o); });
}

}  // namespace revup::cli
