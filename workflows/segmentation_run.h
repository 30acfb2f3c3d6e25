#pragma once
// A segmentation run folder as the workflows read it back: the model's
// description, its classes, normalization and mask reading (config.json), and
// its weights (best.pt or last.pt). Written by workflows/segmentation_training, so
// `predict`, `evaluate`, `export` and `train --resume` read a run made by the
// CLI, the demo or the GUI alike.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "core/segmentation_inference.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/mask_values.h"
#include "io/segmentation_dataset.h"
#include "models/segmentation_net.h"
#include "workflows/run_folder.h"

namespace revup {

// config.json's sections beside "training" (the trainer's): "task",
// "revup_version", "model" (SegmentationConfig::to_json()), "classes",
// "normalization" and "data" (what it was trained on; free-form).
nlohmann::json segmentation_description(const nlohmann::json& model, const ClassTable& classes,
                                        const ChannelStats& stats, const nlohmann::json& data);

struct SegmentationRunInfo {
  std::string dir;
  nlohmann::json config;  // config.json as written
  SegmentationConfig model;
  ClassTable classes;
  ChannelStats stats;
  int slice_axis = -1;  // volumes: the axis the model was trained along
  // How its masks were read ("masks" in config.json); runs made before it
  // was recorded have none.
  std::optional<MaskReading> masks;

  RunFolder folder() const { return RunFolder(dir); }
  // Dataset options that read data as this run was trained: its
  // normalization, slice axis and mask reading.
  DatasetOptions dataset_options() const;
};

// Throws std::runtime_error naming the file and the problem.
SegmentationRunInfo read_segmentation_run(const std::string& dir);
// `which`: "best" or "last" (RunFolder::checkpoint); in eval mode on `device`.
SegmentationNet load_segmentation_net(const SegmentationRunInfo& run, const std::string& which,
                                      const c10::Device& device);

// [1, C, H, W] on the CPU -> logits on the CPU, the model running on `device`.
LogitsFunction logits_function(SegmentationNet net, const c10::Device& device);

}  // namespace revup
