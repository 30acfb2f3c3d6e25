#pragma once
// A segmentation run folder as the CLI reads it back: the model's description,
// its classes and normalization (config.json), and its weights (best.pt or
// last.pt, written by core's TrainingRun).
#include <nlohmann/json.hpp>

#include <string>

#include "core/segmentation_inference.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "models/segmentation_net.h"

namespace revup::cli {

struct SegmentationRunInfo {
  std::string dir;
  nlohmann::json config;  // config.json as written
  SegmentationConfig model;
  ClassTable classes;
  ChannelStats stats;
  int slice_axis = -1;  // volumes: the axis the model was trained along
};

// What train writes into config.json besides the trainer's options.
nlohmann::json segmentation_description(const SegmentationConfig& model, const ClassTable& classes,
                                        const ChannelStats& stats, const nlohmann::json& data);

// Throws std::runtime_error naming the file and the problem.
SegmentationRunInfo read_segmentation_run(const std::string& dir);
// "best" (falling back to last.pt when no validation ever ran) or "last".
std::string run_checkpoint(const SegmentationRunInfo& run, const std::string& which);
SegmentationNet load_segmentation_net(const SegmentationRunInfo& run, const std::string& which,
                                      const c10::Device& device);

// [1, C, H, W] on the CPU -> logits on the CPU, the model running on `device`.
LogitsFunction logits_function(SegmentationNet net, const c10::Device& device);

}  // namespace revup::cli
