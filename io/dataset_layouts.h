#pragma once
// The openers behind open_segmentation_dataset, one per layout (internal).
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "io/segmentation_dataset.h"

namespace revup {

std::unique_ptr<SegmentationDataset> open_folder_pairs(const std::string& root,
                                                       const DatasetOptions& options);
std::unique_ptr<SegmentationDataset> open_voc(const std::string& root,
                                              const DatasetOptions& options);
std::unique_ptr<SegmentationDataset> open_pair_manifest(const std::string& path,
                                                        const nlohmann::json& manifest,
                                                        const DatasetOptions& options);
std::unique_ptr<SegmentationDataset> open_volume_manifest(const std::string& path,
                                                          const nlohmann::json& manifest,
                                                          const DatasetOptions& options);

// Computes the stats over the training split unless options carry them.
void initialize_stats(SegmentationDataset& data, const DatasetOptions& options);

}  // namespace revup
