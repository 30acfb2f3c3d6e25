#pragma once
// Writing a trained model for other tools: the formats, the model card every
// export carries, and the check that what was written computes what the model
// computes. The CLI and the GUI's export dialog call the same function.
//
// Files, for an output path DIR/NAME.EXT:
//   torchscript  NAME.EXT            scripted module (the card also inside, as extra file
//                                    "model_card.json")
//   weights      NAME.EXT            torch.load-able pickle of name -> tensor (the graph's
//                                    baked tensors)
//                NAME.architecture.json  the model's config and the graph's ops that use them
//   onnx         NAME.EXT            ONNX model for one fixed input size (the card also
//                                    inside, as metadata "model_card")
//   all          NAME.card.json      the model card
// All of them appear together or, on any error, none (core/atomic_file.h).
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/inference_graph.h"

namespace revup {

enum class ExportFormat { kTorchScript, kWeights, kOnnx };

// "torchscript" / "weights" / "onnx"; throws std::invalid_argument listing the
// formats. A known name is not an available format: see export_format_available.
ExportFormat export_format_from_name(const std::string& name);
const char* export_format_name(ExportFormat format);

// What an export tells its reader about the model. The writer adds the format,
// the files and the verification.
struct ModelCard {
  std::string task;                  // "segmentation" or "classification"
  nlohmann::json architecture;       // the model's config and its resolved shape
  nlohmann::json classes;            // [{"name", "color"}] or names
  int64_t input_channels = 0;        // C of the [N, C, H, W] input
  int spatial_dims = 2;              // 3: volumes, [N, C, D, H, W] (write_export sets it from
                                     // the graph)
  InputNormalization normalization;  // applied inside the exported graph
  std::string input_values;          // what the graph's input holds (raw pixels, their range)
  std::vector<int64_t> input_size;   // {H, W} ({D, H, W}) the export was made for; empty: any
  nlohmann::json training;           // data summary, training options, metrics
  std::string tool_version;          // REVUP_VERSION of the exporting tool

  nlohmann::json to_json() const;
};

struct ExportReport {
  std::vector<std::string> files;      // what was written, the named file first
  std::vector<int64_t> checked_input;  // the random input's shape
  double max_abs_difference = 0.0;     // written model vs the graph interpreter
};

// A written model must reproduce InferenceGraph::run within this (float32
// rounding of identical ops is far below it; a wrong op is far above it).
constexpr double kExportTolerance = 1e-5;

// Writes `graph` as `format` to `path` with the model card beside it. Before
// anything appears at `path`, the written files are read back by the format's
// own reader (torch::jit::load, torch::pickle_load, a registered writer's
// consumer) and checked against the graph on a random input of
// `card.input_size` (64 x 64, or 32^3 for volumes, when none; a format that
// needs a fixed size refuses none); a difference above kExportTolerance (a registered writer's
// own tolerance) is an error. Throws std::runtime_error naming `path` and the
// reason, std::invalid_argument for a format this build lacks or a missing
// size; nothing is left behind then.
ExportReport write_export(const InferenceGraph& graph, ExportFormat format, const std::string& path,
                          const ModelCard& card);

// A format whose libraries core must not see (ONNX: libonnx to write it,
// OpenCV's DNN to read it back) plugs its writer in here; io/onnx_export.h
// registers ONNX's. Why a registry rather than a dispatch function above core:
// write_export stays the one function the CLI and the GUI call, and core stays
// the one place that keeps the contract (atomic files, the card, the read-back
// check against InferenceGraph::run, nothing left on error) for every format,
// as io's FormatRegistry does for image formats. A writer only writes its file
// and runs it with the consumer. Registration is an explicit call by the app,
// not a static initializer, which the linker drops with an unreferenced object
// file of a static library.
struct ExportWriter {
  std::string reader;             // the consumer that reads the file back, as the card names it
  double tolerance = 0.0;         // max abs difference allowed against InferenceGraph::run
  bool needs_input_size = false;  // the file is made for one fixed input size
  bool volumes = false;           // it can write 3D graphs too
  nlohmann::json details;         // written into the card's "verification" (opset, ...)
  // Writes `graph` (with `card`, the card's JSON, inside where the format has
  // room) to `file`, reads `file` back with `reader` and returns its output
  // for `input`. Throws std::runtime_error with the reason.
  std::function<torch::Tensor(const InferenceGraph& graph, const std::string& file,
                              const nlohmann::json& card, const torch::Tensor& input)>
      write_and_run;
};

// Latest wins. Thread-safe.
void register_export_writer(ExportFormat format, ExportWriter writer);
// TorchScript and weights always; others when this build registered them.
bool export_format_available(ExportFormat format);

// NAME.EXT -> NAME + suffix, beside it ("m.pt", ".card.json" -> "m.card.json").
std::string companion_path(const std::string& path, const std::string& suffix);

}  // namespace revup
