#include "models/run_files.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace revup {
namespace fs = std::filesystem;

nlohmann::json read_run_config(const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) throw std::runtime_error(run_dir + ": run folder not found");
  const auto config_path = (fs::path(run_dir) / "config.json").string();
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

void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path) {
  if (!fs::exists(checkpoint_path)) throw std::runtime_error(checkpoint_path + ": missing");
  try {
    torch::serialize::InputArchive archive, model;
    archive.load_from(checkpoint_path);
    archive.read("model", model);
    module.load(model);
  } catch (const c10::Error& e) {
    throw std::runtime_error(checkpoint_path + ": unreadable checkpoint (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
}

std::string run_checkpoint_path(const std::string& run_dir, const std::string& which) {
  if (which != "best" && which != "last") {
    throw std::invalid_argument("--checkpoint must be best or last, got '" + which + "'");
  }
  const auto best = (fs::path(run_dir) / "best.pt").string();
  const auto last = (fs::path(run_dir) / "last.pt").string();
  if (which == "best" && fs::exists(best)) return best;
  if (!fs::exists(last))
    throw std::runtime_error(last + ": missing (the run never finished an epoch)");
  return last;
}

}  // namespace revup
