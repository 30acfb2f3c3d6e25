#include "workflows/run_folder.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/checkpoint_loading.h"
#include "core/trainer.h"

namespace revup {
namespace fs = std::filesystem;

std::string RunFolder::path(const std::string& name) const {
  return (fs::path(dir_) / name).string();
}

bool RunFolder::has_checkpoint() const { return fs::exists(path(kLastCheckpoint)); }

void RunFolder::require_checkpoint_to_resume() const {
  if (!has_checkpoint()) throw std::runtime_error(path(kLastCheckpoint) + ": nothing to resume");
}

nlohmann::json RunFolder::read_config() const {
  if (!fs::is_directory(dir_)) throw std::runtime_error(dir_ + ": run folder not found");
  const auto config_path = path(kConfig);
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error(config_path + ": missing (not a RevUp run folder?)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": not valid JSON (" + e.what() + ")");
  }
  // Every reader looks fields up by name (task_of too).
  if (!j.is_object()) {
    throw std::runtime_error(config_path + ": not a run description (a JSON object)");
  }
  return j;
}

void RunFolder::write_config(const nlohmann::json& config) const {
  write_text_atomically(path(kConfig), config.dump(2) + "\n");
}

std::string RunFolder::task_of(const nlohmann::json& config) {
  const auto task = config.find("task");
  if (task == config.end()) return "classification";
  return task->is_string() ? task->get<std::string>() : task->dump();  // named in the error
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
  const std::string problem = "unreadable checkpoint";
  torch::serialize::InputArchive archive, model;
  open_checkpoint(archive, checkpoint_path, problem);
  reading_checkpoint(checkpoint_path, problem,
                     [&] { archive.read(Trainer::kCheckpointModel, model); });
  load_module_checked(module, model, checkpoint_path, problem);
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
