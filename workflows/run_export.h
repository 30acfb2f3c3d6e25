#pragma once
// The export workflow's first half: a trained run folder (revup-cli train,
// train-classifier, the demo or the GUI) as what an export writes: the model's plain inference
// graph and its model card. The CLI's `export` and the GUI's export dialog both start here and then
// call core's write_export, so both write and check the same files.
#include <string>
#include <vector>

#include "core/inference_graph.h"
#include "core/model_export.h"

namespace revup {

struct RunExportSource {
  InferenceGraph graph;  // takes raw pixel values: the run's normalization is inside
  ModelCard card;        // input_size and tool_version are the caller's to set
};

// `which`: "best" (last.pt when no validation ran) or "last". Throws
// std::runtime_error naming the file and the problem (missing folder, bad
// config.json, unreadable checkpoint), std::invalid_argument for a bad `which`.
RunExportSource run_export_source(const std::string& run_dir, const std::string& which);

struct RunExportRequest {
  std::string run_dir;
  std::string which = "best";
  std::string format;  // "torchscript", "weights" or "onnx" (export_format_from_name)
  std::string output;  // the model card goes beside it
  // H, W (D, H, W for a 3D model) the export is made and checked for; ONNX
  // needs it (static shapes), TorchScript and weights run at any size.
  std::vector<int64_t> input_size;
};

// The export workflow the CLI's `export` and the GUI's dialog both run:
// checks what can be checked before loading anything (the format in this
// build, ONNX's input size, the output's folder) and what the model decides
// (ONNX is 2D only; the input size's axes), then writes the graph and
// its model card through core's write_export, which reads the file back with
// the format's own reader. Throws naming the problem.
struct RunExportResult {
  ExportReport report;
  size_t graph_ops = 0, graph_tensors = 0;  // the plain inference graph written
};
RunExportResult export_run(const RunExportRequest& request);
// The formats this build writes (ONNX where built with it), by name.
std::vector<std::string> available_export_formats();

}  // namespace revup
