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
//   both         NAME.card.json      the model card
// All of them appear together or, on any error, none (core/atomic_file.h).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/inference_graph.h"

namespace revup {

enum class ExportFormat { kTorchScript, kWeights };

// "torchscript" / "weights"; throws std::invalid_argument listing the formats.
ExportFormat export_format_from_name(const std::string& name);
const char* export_format_name(ExportFormat format);

// What an export tells its reader about the model. The writer adds the format,
// the files and the verification.
struct ModelCard {
  std::string task;                  // "segmentation" or "classification"
  nlohmann::json architecture;       // the model's config and its resolved shape
  nlohmann::json classes;            // [{"name", "color"}] or names
  int64_t input_channels = 0;        // C of the [N, C, H, W] input
  InputNormalization normalization;  // applied inside the exported graph
  std::string input_values;          // what the graph's input holds (raw pixels, their range)
  std::vector<int64_t> input_size;   // {H, W} the export was made for; empty: any size
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
// own reader (torch::jit::load, torch::pickle_load) and checked against the
// graph on a random input of `card.input_size` (64 x 64 when none); a
// difference above kExportTolerance is an error. Throws std::runtime_error
// naming `path` and the reason; nothing is left behind then.
ExportReport write_export(const InferenceGraph& graph, ExportFormat format, const std::string& path,
                          const ModelCard& card);

// NAME.EXT -> NAME + suffix, beside it ("m.pt", ".card.json" -> "m.card.json").
std::string companion_path(const std::string& path, const std::string& suffix);

}  // namespace revup
