#pragma once
// A run folder and its schema, in one place. Whoever wrote it (revup-cli
// train, train-classifier, the demo or the GUI), a run holds
//   config.json           what was trained on what: the writer's description
//                         ("task", "model", "classes", "normalization", "data",
//                         ...) and the trainer's options ("training")
//   metrics.csv           one row per completed epoch (workflows/metrics_table.h)
//   last.pt               model + optimizer + epoch after the last completed epoch
//   best.pt               the same for the epoch with the best validation score
//   memory_timeline.json  allocator bytes after every block of an epoch's last step
// Every file is written atomically (a temporary name, then a rename).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "workflows/metrics_table.h"

namespace revup {

class RunFolder {
 public:
  static constexpr const char* kConfig = "config.json";
  static constexpr const char* kMetrics = "metrics.csv";
  static constexpr const char* kLastCheckpoint = "last.pt";
  static constexpr const char* kBestCheckpoint = "best.pt";
  static constexpr const char* kMemoryTimeline = "memory_timeline.json";

  explicit RunFolder(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;
  // A run that completed at least one epoch (what --resume continues).
  bool has_checkpoint() const;
  // Throws "DIR/last.pt: nothing to resume" unless has_checkpoint(): checked
  // before anything else of the run is read, since a run killed while writing
  // its first file has a folder and no config.json yet.
  void require_checkpoint_to_resume() const;

  // Throws std::runtime_error naming the file and the problem.
  nlohmann::json read_config() const;
  void write_config(const nlohmann::json& config) const;
  // A config.json's "task": "segmentation", or "classification" for runs
  // that predate the field (train-classifier's first runs wrote none).
  static std::string task_of(const nlohmann::json& config);

  MetricsTable read_metrics() const;
  void write_metrics(const MetricsTable& metrics) const;

  // "best" (falling back to last.pt when no validation ever ran) or "last":
  // the checkpoint's path. Throws std::invalid_argument for another `which`,
  // std::runtime_error naming what is missing.
  std::string checkpoint(const std::string& which) const;
  // The checkpoint's model weights into `module`; throws naming the file.
  void load_model(torch::nn::Module& module, const std::string& which) const;

 private:
  std::string dir_;
};

// The model part of a trainer checkpoint (core's Trainer::save_checkpoint)
// into `module`. Throws std::runtime_error naming the file and the problem.
void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path);

// A new run that fails before its first checkpoint (bad data found
// mid-epoch, a full disk, Ctrl-C, the GUI's Stop) leaves nothing a user could
// resume: on destruction this removes the files it wrote, and the folder if it
// made it, unless keep() was called or the run saved a checkpoint. Inactive
// for a resumed run.
class NewRunCleanup {
 public:
  NewRunCleanup(RunFolder run, bool resume);
  ~NewRunCleanup();
  NewRunCleanup(const NewRunCleanup&) = delete;
  NewRunCleanup& operator=(const NewRunCleanup&) = delete;
  void keep() { active_ = false; }

 private:
  RunFolder run_;
  bool active_, made_folder_;
};

}  // namespace revup
