#include "workflows/classifier_run.h"

#include <stdexcept>

namespace revup {

Network load_classifier(const std::string& run_dir, const std::string& which) {
  const RunFolder folder(run_dir);
  const auto j = folder.read_config();
  ModelConfig config;
  try {
    config = ModelConfig::from_json(j.at("model"));
  } catch (const std::exception& e) {
    throw std::runtime_error(folder.path(RunFolder::kConfig) + ": bad model description (" +
                             e.what() + ")");
  }
  Network net(config);
  folder.load_model(*net, which);
  return net;
}

}  // namespace revup
