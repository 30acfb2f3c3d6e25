#pragma once
// Run folders: config.json (the model's own description and how it was
// trained) and checkpoints written by the trainer (model + optimizer + epoch).
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <string>

#include "models/network.h"
#include "models/run_files.h"

namespace revup::cli {

// Rebuilds a classifier from RUN_DIR/config.json and loads RUN_DIR/last.pt.
Network load_run_network(const std::string& run_dir);

}  // namespace revup::cli
