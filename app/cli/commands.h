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

// Checked before the work starts, so a typo costs no training or prediction
// time: a file's folder must exist and the path must not be a folder; with
// `may_create` (a run folder) the path must be a folder or not exist yet.
// Throws std::runtime_error naming the path.
void check_output_folder(const std::string& path, bool may_create = false);

// A file-size limit (ulimit -f) makes the kernel kill a writer with SIGXFSZ,
// leaving its temporary files behind; ignored, the write fails with EFBIG and
// is reported like a full disk.
void ignore_file_size_signal();

}  // namespace revup::cli
