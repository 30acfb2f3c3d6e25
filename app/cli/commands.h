#pragma once
// revup-cli's subcommands. Each add_* registers its options and a callback.
#include <c10/core/Device.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "core/device.h"  // select_device, used by most commands

namespace revup::cli {

void add_info_command(CLI::App& app);
void add_bench_commands(CLI::App& app);
void add_train_classifier_command(CLI::App& app);
// Segmentation (need io/): train, predict, evaluate, demo; export (any run).
void add_train_segmentation_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_export_command(CLI::App& app);

void write_json(const std::string& path, const nlohmann::json& j);

}  // namespace revup::cli
