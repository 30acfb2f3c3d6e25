#include "app/cli/run_folder.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace revup::cli {

Network load_run_network(const std::string& run_dir) {
  namespace fs = std::filesystem;
  const auto config_path = (fs::path(run_dir) / "config.json").string();
  const auto weights_path = (fs::path(run_dir) / "last.pt").string();
  if (!fs::is_directory(run_dir)) throw std::runtime_error(run_dir + ": run folder not found");
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error(config_path + ": missing (not a RevUp run folder?)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": not valid JSON (" + e.what() + ")");
  }
  ModelConfig config;
  try {
    config = ModelConfig::from_json(j.at("model"));
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": bad model description (" + e.what() + ")");
  }
  Network net(config);
  try {
    torch::serialize::InputArchive archive, model;
    archive.load_from(weights_path);
    archive.read("model", model);
    net->load(model);
  } catch (const c10::Error& e) {
    throw std::runtime_error(weights_path + ": unreadable checkpoint (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
  return net;
}

}  // namespace revup::cli
