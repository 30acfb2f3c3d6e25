#include "app/cli/run_folder.h"

#include <filesystem>
#include <stdexcept>

namespace revup::cli {
namespace fs = std::filesystem;

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
