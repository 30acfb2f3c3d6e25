#pragma once
// A segmentation run folder as the CLI reads it back: the model's description,
// its classes and normalization (config.json), and its weights (best.pt or
// last.pt, written by core's TrainingRun).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "core/segmentation_inference.h"
#include "io/channel_stats.h"
#include "io/class_table.h"
#include "io/mask_values.h"
#include "io/run_description.h"
#include "io/segmentation_dataset.h"
#include "models/run_files.h"
#include "models/segmentation_net.h"

namespace revup::cli {

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
  // Dataset options that read data as this run was trained: its
  // normalization, slice axis and mask reading.
  DatasetOptions dataset_options() const;
};

// Throws std::runtime_error naming the file and the problem.
SegmentationRunInfo read_segmentation_run(const std::string& dir);
SegmentationNet load_segmentation_net(const SegmentationRunInfo& run, const std::string& which,
                                      const c10::Device& device);

// Checked before the work starts, so a typo costs no training or prediction
// time: a file's folder must exist and the path must not be a folder; with
// `may_create` (a run folder) the path must be a folder or not exist yet.
// Throws std::runtime_error naming the path.
void check_output_folder(const std::string& path, bool may_create = false);

// A file-size limit (ulimit -f) makes the kernel kill a writer with SIGXFSZ,
// leaving its temporary files behind; ignored, the write fails with EFBIG and
// is reported like a full disk.
void ignore_file_size_signal();

// [1, C, H, W] on the CPU -> logits on the CPU, the model running on `device`.
LogitsFunction logits_function(SegmentationNet net, const c10::Device& device);

}  // namespace revup::cli
