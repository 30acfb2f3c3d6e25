#pragma once
// revup-cli's subcommands. Each add_* registers its options and a callback.
#include <c10/core/Device.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "core/device.h"            // select_device, used by most commands
#include "workflows/output_path.h"  // check_output_folder, used by most commands
#include "workflows/training_run.h"

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

// The options every training command shares, into `run` (its values are the
// defaults shown): --epochs, --lr, --weight-decay, --clip-grad, --seed,
// --device, --resume. --out (run.run_dir) is the command's own.
void add_training_options(CLI::App* cmd, TrainingBasics& run);
// Says what a stopped run kept (its last.pt and epoch, or nothing) and
// throws "interrupted" (exit status 130).
[[noreturn]] void report_stopped(const std::string& run_dir, bool saved, int completed_epochs);

// A file-size limit (ulimit -f) makes the kernel kill a writer with SIGXFSZ,
// leaving its temporary files behind; ignored, the write fails with EFBIG and
// is reported like a full disk.
void ignore_file_size_signal();

}  // namespace revup::cli
