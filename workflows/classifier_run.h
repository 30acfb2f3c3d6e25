#pragma once
// A classifier's run folder (train-classifier): config.json's "model" is a
// ModelConfig, "normalization" the training images' mean and std of pixels
// scaled to [0, 1], "classes" (since 0.1) the dataset's class names.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "models/network.h"
#include "workflows/run_folder.h"

namespace revup {

// Rebuilds a classifier from RUN_DIR/config.json and loads its `which`
// checkpoint ("best" or "last"). Throws naming the file and the problem.
Network load_classifier(const std::string& run_dir, const std::string& which = "last");

}  // namespace revup
