#pragma once
// Run folders: config.json (the model's own description and how it was
// trained) and checkpoints written by the trainer (model + optimizer + epoch).
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <string>

#include "models/network.h"

namespace revup::cli {

// RUN_DIR/config.json. Throws std::runtime_error naming the file and the problem.
nlohmann::json read_run_config(const std::string& run_dir);
// The "model" part of a trainer checkpoint into `module`.
void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path);

// Rebuilds a classifier from RUN_DIR/config.json and loads RUN_DIR/last.pt.
Network load_run_network(const std::string& run_dir);

}  // namespace revup::cli
