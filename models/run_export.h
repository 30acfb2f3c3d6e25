#pragma once
// A trained run folder (revup-cli train, train-classifier, or the GUI) as what
// an export writes: the model's plain inference graph and its model card. The
// CLI's `export` and the GUI's export dialog both start here and then call
// core's write_export, so both write and check the same files.
#include <string>

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

}  // namespace revup
