#pragma once
// What every run folder holds, read without knowing who wrote it (revup-cli
// train, train-classifier or the GUI): config.json and the trainer's
// checkpoints (model + optimizer + epoch).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

namespace revup {

// RUN_DIR/config.json. Throws std::runtime_error naming the file and the problem.
nlohmann::json read_run_config(const std::string& run_dir);
// The "model" part of a trainer checkpoint into `module`.
void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path);
// "best" (falling back to last.pt when no validation ever ran) or "last":
// the checkpoint's path. Throws naming what is missing.
std::string run_checkpoint_path(const std::string& run_dir, const std::string& which);
// RUN_DIR/metrics.csv as one JSON object per epoch, numbers as numbers and
// empty cells left out; an empty array when the run has no epoch yet.
nlohmann::json read_run_metrics(const std::string& run_dir);

}  // namespace revup
