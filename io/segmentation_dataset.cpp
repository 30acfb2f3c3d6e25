#include "io/segmentation_dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include "core/label_ids.h"
#include "io/dataset_layouts.h"

namespace revup {

namespace fs = std::filesystem;

std::vector<size_t> all_indices(size_t n) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  return all;
}

Split split_indices(size_t n, double val_fraction, uint64_t seed) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  size_t val = static_cast<size_t>(std::llround(val_fraction * static_cast<double>(n)));
  if (val_fraction > 0 && n >= 2) val = std::clamp<size_t>(val, 1, n - 1);
  if (n < 2) val = 0;
  Split s;
  s.val.assign(order.begin(), order.begin() + static_cast<long>(val));
  s.train.assign(order.begin() + static_cast<long>(val), order.end());
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.val.begin(), s.val.end());
  return s;
}

void SegmentationDataset::check_ids(const torch::Tensor& ids, const std::string& where) const {
  const auto bad =
      ids.lt(0).logical_or(ids.ge(classes_.size())).logical_and(ids.ne(classes_.ignore_index));
  if (bad.any().item<bool>()) {
    const auto first = ids.masked_select(bad)[0].item<int64_t>();
    throw std::runtime_error(where + ": label " + std::to_string(first) +
                             " is outside the class list (" + std::to_string(classes_.size()) +
                             " classes, ignore value " + std::to_string(classes_.ignore_index) +
                             "; " + std::to_string(bad.sum().item<int64_t>()) + " such pixels)");
  }
}

const ValueCounts& SegmentationDataset::mask_values(size_t index) const {
  static const ValueCounts none;
  return index < value_counts_.size() ? value_counts_[index] : none;
}

ValueCounts SegmentationDataset::mask_values(const std::vector<size_t>& indices) const {
  ValueCounts all;
  for (size_t i : indices) add_counts(all, mask_values(i));
  return all;
}

std::vector<int64_t> SegmentationDataset::class_pixels(const std::vector<size_t>& indices) const {
  return reading_.class_pixels(mask_values(indices), classes_.size());
}

std::string SegmentationDataset::describe_masks() const {
  if (value_counts_.empty()) return "";  // not scanned (label volumes): nothing to report
  return describe_mask_reading(reading_, mask_values(all_indices(size())), classes_);
}

std::vector<int64_t> present_classes(const SegmentationDataset& data) {
  const auto pixels = data.class_pixels(all_indices(data.size()));
  std::vector<int64_t> out;
  for (size_t c = 0; c < pixels.size(); ++c) {
    if (pixels[c] > 0) out.push_back(static_cast<int64_t>(c));
  }
  return out;
}

std::string one_class_validation_warning(const SegmentationDataset& data,
                                         const std::vector<size_t>& val) {
  if (val.empty()) return "";
  const auto pixels = data.class_pixels(val);
  std::vector<size_t> present;
  for (size_t c = 0; c < pixels.size(); ++c) {
    if (pixels[c] > 0) present.push_back(c);
  }
  if (present.size() != 1) return "";
  return "every labelled pixel of the validation split (" + std::to_string(val.size()) +
         " images) is class '" + data.classes().classes[present[0]].name +
         "': its mIoU scores no other class (each counts as 0). Hold out more images "
         "(--val-fraction) or choose another split (--seed).";
}

Example SegmentationDataset::get(size_t index) const {
  const Image img = image(index);
  auto target = mask(index);
  const auto spatial = img.pixels.sizes().slice(1);
  if (spatial != target.sizes()) {
    throw std::runtime_error(mask_source(index) + ": mask of size " + c10::str(target.sizes()) +
                             " does not match its image " + img.path + " of size " +
                             c10::str(spatial));
  }
  if (torch::isFloatingType(img.pixels.scalar_type())) {
    auto non_finite = img.pixels.isfinite().logical_not();
    if (img.nodata && std::isnan(*img.nodata))
      non_finite = non_finite.logical_and(img.pixels.isnan().logical_not());
    if (non_finite.any().item<bool>()) {
      throw std::runtime_error(img.path + ": has NaN or Inf pixels that are not its nodata value");
    }
  }
  if (stats_.empty()) throw std::runtime_error(name(index) + ": no normalization statistics set");
  Example e;
  e.input = normalize(img, stats_);
  // Every example's target has one small type (core/label_ids.h), whatever
  // the mask's file held. mask() has checked the ids against the class
  // table, so each fits that type: none wraps around.
  e.target = target.to(label_dtype_for(classes_.size(), classes_.ignore_index))
                 .masked_fill(valid_pixels(img).logical_not(), classes_.ignore_index);
  return e;
}

ChannelStats SegmentationDataset::compute_stats(const std::vector<size_t>& indices) const {
  ChannelStatsAccumulator acc;
  for (size_t i : indices) acc.add(image(i));
  return acc.finish();
}

void initialize_stats(SegmentationDataset& data, const DatasetOptions& options) {
  if (options.stats) {
    data.set_stats(*options.stats);
    return;
  }
  auto train = data.split().train;
  if (train.empty()) train = data.split().val;
  if (!train.empty()) data.set_stats(data.compute_stats(train));
}

std::unique_ptr<SegmentationDataset> open_segmentation_dataset(const std::string& path,
                                                               const DatasetOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::runtime_error(path + ": dataset not found");
  if (fs::is_regular_file(path, ec)) {
    std::ifstream in(path);
    nlohmann::json manifest;
    try {
      manifest = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": not a JSON dataset manifest (" + e.what() + ")");
    }
    if (manifest.contains("volume") || manifest.contains("volumes")) {
      return open_volume_manifest(path, manifest, options);
    }
    if (manifest.contains("pairs")) return open_pair_manifest(path, manifest, options);
    throw std::runtime_error(path + ": a manifest needs \"pairs\" (images with masks) or " +
                             "\"volume\" and \"labels\"");
  }
  const fs::path root(path);
  if (fs::is_directory(root / "images") && fs::is_directory(root / "masks")) {
    return open_folder_pairs(path, options);
  }
  if (fs::is_directory(root / "JPEGImages")) return open_voc(path, options);
  for (const char* manifest : {"dataset.json", "manifest.json"}) {
    if (fs::is_regular_file(root / manifest)) {
      return open_segmentation_dataset((root / manifest).string(), options);
    }
  }
  throw std::runtime_error(path + ": no dataset layout recognized (expected images/ and masks/, " +
                           "a VOC layout with JPEGImages/, or a JSON manifest)");
}

}  // namespace revup
