#pragma once
// A run folder: config.json (the model's own description), last.pt (trainer
// checkpoint), metrics.csv. Written by train-classifier, read by the benches.
#include <string>

#include "models/network.h"

namespace revup::cli {

// Rebuilds the network from RUN_DIR/config.json and loads RUN_DIR/last.pt.
// Throws std::runtime_error naming the file and the problem.
Network load_run_network(const std::string& run_dir);

}  // namespace revup::cli
