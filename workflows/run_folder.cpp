#include "workflows/run_folder.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/trainer.h"

namespace revup {
namespace fs = std::filesystem;

std::string RunFolder::path(const std::string& name) const {
  return (fs::path(dir_) / name).string();
}

bool RunFolder::has_checkpoint() const { return fs::exists(path(kLastCheckpoint)); }

nlohmann::json RunFolder::read_config() const {
  if (!fs::is_directory(dir_)) throw std::runtime_error(dir_ + ": run folder not found");
  const auto config_path = path(kConfig);
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error(config_path + ": missing (not a RevUp run folder?)");
  try {
    nlohmann::json j;
    in >> j;
    return j;
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": not valid JSON (" + e.what() + ")");
  }
}

void RunFolder::write_config(const nlohmann::json& config) const {
  write_text_atomically(path(kConfig), config.dump(2) + "\n");
}

std::string RunFolder::task_of(const nlohmann::json& config) {
  return config.value("task", "classification");
}

MetricsTable RunFolder::read_metrics() const { return MetricsTable::read(path(kMetrics)); }

void RunFolder::write_metrics(const MetricsTable& metrics) const {
  write_text_atomically(path(kMetrics), metrics.csv());
}

std::string RunFolder::checkpoint(const std::string& which) const {
  if (which != "best" && which != "last") {
    throw std::invalid_argument("--checkpoint must be best or last, got '" + which + "'");
  }
  const auto best = path(kBestCheckpoint);
  const auto last = path(kLastCheckpoint);
  if (which == "best" && fs::exists(best)) return best;
  if (!fs::exists(last))
    throw std::runtime_error(last + ": missing (the run never finished an epoch)");
  return last;
}

void RunFolder::load_model(torch::nn::Module& module, const std::string& which) const {
  load_model_weights(module, checkpoint(which));
}

void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path) {
  if (!fs::exists(checkpoint_path)) throw std::runtime_error(checkpoint_path + ": missing");
  try {
    torch::serialize::InputArchive archive, model;
    archive.load_from(checkpoint_path);
    archive.read(Trainer::kCheckpointModel, model);
    module.load(model);
  } catch (const c10::Error& e) {
    throw std::runtime_error(checkpoint_path + ": unreadable checkpoint (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
}

NewRunCleanup::NewRunCleanup(RunFolder run, bool resume)
    : run_(std::move(run)), active_(!resume), made_folder_(!fs::exists(run_.dir())) {}

NewRunCleanup::~NewRunCleanup() {
  if (!active_ || run_.has_checkpoint()) return;
  std::error_code ec;
  for (const char* f : {RunFolder::kConfig, RunFolder::kMetrics, RunFolder::kMemoryTimeline}) {
    fs::remove(run_.path(f), ec);
  }
  if (made_folder_ && fs::is_empty(run_.dir(), ec)) fs::remove(run_.dir(), ec);
}

}  // namespace revup
