#include "io/run_description.h"

namespace revup {

nlohmann::json segmentation_description(const nlohmann::json& model, const ClassTable& classes,
                                        const ChannelStats& stats, const nlohmann::json& data) {
  return {{"task", "segmentation"}, {"revup_version", REVUP_VERSION}, {"model", model},
          {"classes", classes},     {"normalization", stats},         {"data", data}};
}

}  // namespace revup
