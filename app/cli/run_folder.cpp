#include "app/cli/run_folder.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace revup::cli {
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

Network load_run_network(const std::string& run_dir) {
  const auto j = read_run_config(run_dir);
  ModelConfig config;
  try {
    config = ModelConfig::from_json(j.at("model"));
  } catch (const std::exception& e) {
    throw std::runtime_error((fs::path(run_dir) / "config.json").string() +
                             ": bad model description (" + e.what() + ")");
  }
  Network net(config);
  load_model_weights(*net, (fs::path(run_dir) / "last.pt").string());
  return net;
}

}  // namespace revup::cli
