#pragma once
// What a segmentation run's config.json says about the model beside the
// trainer's options: its description, classes, normalization and data. The
// CLI's `train` and the GUI write the same, so either reads (and `predict`,
// `evaluate` and `export` use) a run made by the other.
#include <nlohmann/json.hpp>

#include "io/channel_stats.h"
#include "io/class_table.h"

namespace revup {

// `model`: the network's own description (SegmentationConfig::to_json()).
nlohmann::json segmentation_description(const nlohmann::json& model, const ClassTable& classes,
                                        const ChannelStats& stats, const nlohmann::json& data);

}  // namespace revup
