// Layout (d): a volume and its label volume, served whole (3D models) or as
// 2D slices along one axis. Both volumes are held in memory.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "core/json_number.h"
#include "io/dataset_layouts.h"
#include "io/format_registry.h"

namespace revup {

namespace fs = std::filesystem;

namespace {

// Lines "index name [code]" (mricron's aal.nii.txt) or one name a line
// (labelme). Class 0 is "background" unless the file names it.
ClassTable read_label_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": label names file not found");
  std::vector<std::string> names;
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream ss(line);
    std::string first, second;
    if (!(ss >> first)) continue;
    const bool indexed =
        (ss >> second) && first.find_first_not_of("0123456789") == std::string::npos;
    if (!indexed) {
      names.push_back(line.substr(0, line.find_last_not_of(" \r") + 1));
      continue;
    }
    // Its length first: std::stoul throws a bare out_of_range past 2^64.
    const size_t index = first.size() > 18 ? 65536 : std::stoul(first);
    if (index >= 65536)
      throw std::runtime_error(path + ":" + std::to_string(line_number) + ": index too large");
    if (names.size() <= index) names.resize(index + 1);
    names[index] = second;
  }
  if (names.empty()) throw std::runtime_error(path + ": names no label");
  if (names[0].empty()) names[0] = "background";
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) names[i] = "label_" + std::to_string(i);
  }
  return ClassTable::from_names(names);
}

class VolumeSliceDataset : public SegmentationDataset {
 public:
  VolumeSliceDataset(Image volume, torch::Tensor labels, std::string labels_path, int axis,
                     ClassTable classes, DatasetOptions options)
      : volume_(std::move(volume)),
        labels_(std::move(labels)),
        labels_path_(std::move(labels_path)),
        axis_(axis) {
    classes_ = std::move(classes);
    options_ = std::move(options);
    check_ids(labels_, labels_path_);
    const auto labelled = labels_.gt(0).logical_and(labels_.ne(classes_.ignore_index));
    std::vector<int64_t> other;
    for (int64_t d = 0; d < 3; ++d) {
      if (d != axis_) other.push_back(d);
    }
    const auto any = labelled.any(other[1]).any(other[0]);  // per slice along axis_
    for (int64_t k = 0; k < labels_.size(axis_); ++k) {
      if (options_.include_empty_slices || any[k].item<bool>()) slices_.push_back(k);
    }
    if (slices_.empty()) throw std::runtime_error(labels_path_ + ": no slice has a label");
  }
  size_t size() const override { return slices_.size(); }
  std::string layout() const override { return "volume"; }
  std::string name(size_t i) const override {
    return fs::path(volume_.path).filename().string() + ":axis" + std::to_string(axis_) + ":" +
           std::to_string(slices_.at(i));
  }
  // The slice as a 2D image; `voxels` stays the volume's geometry.
  Image image(size_t i) const override {
    Image slice = volume_;
    slice.pixels = volume_.pixels.select(axis_ + 1, slices_.at(i)).contiguous();
    return slice;
  }
  torch::Tensor mask(size_t i) const override {
    return labels_.select(axis_, slices_.at(i)).clone(torch::MemoryFormat::Contiguous);
  }
  int64_t slice_index(size_t i) const { return slices_.at(i); }

 private:
  Image volume_;
  torch::Tensor labels_;  // [D, H, W] int64
  std::string labels_path_;
  int axis_;
  std::vector<int64_t> slices_;
};

// The whole volume as one example, for 3D models.
class WholeVolumeDataset : public SegmentationDataset {
 public:
  WholeVolumeDataset(Image volume, torch::Tensor labels, std::string labels_path,
                     ClassTable classes, DatasetOptions options)
      : volume_(std::move(volume)),
        labels_(std::move(labels)),
        labels_path_(std::move(labels_path)) {
    classes_ = std::move(classes);
    options_ = std::move(options);
    check_ids(labels_, labels_path_);
    if (!labels_.gt(0).logical_and(labels_.ne(classes_.ignore_index)).any().item<bool>()) {
      throw std::runtime_error(labels_path_ + ": no voxel has a label");
    }
  }
  size_t size() const override { return 1; }
  std::string layout() const override { return "volume"; }
  int dims() const override { return 3; }
  std::string name(size_t i) const override {
    check(i);
    return fs::path(volume_.path).filename().string();
  }
  Image image(size_t i) const override {
    check(i);
    return volume_;
  }
  torch::Tensor mask(size_t i) const override {
    check(i);
    return labels_;
  }
  std::string mask_source(size_t i) const override {
    check(i);
    return labels_path_;
  }

 private:
  void check(size_t i) const {
    if (i != 0) throw std::out_of_range("a volume dataset holds one volume");
  }
  Image volume_;
  torch::Tensor labels_;  // [D, H, W] int64
  std::string labels_path_;
};

}  // namespace

std::unique_ptr<SegmentationDataset> open_volume_manifest(const std::string& path,
                                                          const nlohmann::json& manifest,
                                                          const DatasetOptions& options) {
  const fs::path base = fs::path(path).parent_path();
  if (!manifest.contains("labels")) {
    throw std::runtime_error(path + ": the volume has no label volume (\"labels\" is missing)");
  }
  // The manifest's fields, each with the type it must have: a raw JSON type
  // error would not say which file it is about.
  auto field = [&](const char* key, auto fallback) {
    try {
      if constexpr (std::is_arithmetic_v<decltype(fallback)> &&
                    !std::is_same_v<decltype(fallback), bool>) {
        return json_number(manifest, key, fallback);
      } else {
        return manifest.value(key, fallback);
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": bad manifest (\"" + key + "\": " + e.what() + ")");
    }
  };
  auto resolve = [&](const char* key) {
    const fs::path p(field(key, std::string()));
    return (p.is_absolute() ? p : base / p).string();
  };
  const std::string volume_path = resolve("volume"), labels_path = resolve("labels");
  int axis = options.slice_axis >= 0 ? options.slice_axis : field("axis", 0);
  if (axis < 0 || axis > 2) throw std::runtime_error(path + ": axis must be 0, 1 or 2");
  const int dims = options.dims > 0 ? options.dims : field("dims", 3);
  if (dims != 2 && dims != 3) {
    throw std::runtime_error(path + ": dims must be 3 (whole volumes) or 2 (slice by slice)");
  }
  Image volume = read_image(volume_path);
  const Image labels = read_image(labels_path);
  if (!volume.is_volume() || !labels.is_volume()) {
    throw std::runtime_error(path + ": volume and labels must both be 3D");
  }
  if (labels.channels() != 1)
    throw std::runtime_error(labels_path + ": labels must have 1 channel");
  if (volume.pixels.sizes().slice(1) != labels.pixels.sizes().slice(1)) {
    throw std::runtime_error(labels_path + ": label volume of size " +
                             c10::str(labels.pixels.sizes().slice(1)) + " does not match " +
                             volume_path + " of size " + c10::str(volume.pixels.sizes().slice(1)));
  }
  auto ids = labels.pixels[0].to(torch::kInt64);
  if (ids.numel() == 0) throw std::runtime_error(labels_path + ": the label volume is empty");
  ClassTable classes;
  if (manifest.contains("label_names")) {
    classes = read_label_names(resolve("label_names"));
  } else if (manifest.contains("classes")) {
    try {
      classes = manifest.get<ClassTable>();
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": bad class list (" + e.what() + ")");
    }
  } else {
    // One class per label value up to the largest: as many as a label file
    // may name (read_label_names), not as many as a stray value asks for.
    const int64_t largest = ids.max().item<int64_t>();
    if (largest < 0 || largest >= 65536) {
      throw std::runtime_error(labels_path + ": label values up to " + std::to_string(largest) +
                               " (expected 0..65535; name the classes with \"label_names\")");
    }
    classes = ClassTable::numbered(largest + 1);
    classes.classes[0].name = "background";
  }
  if (manifest.contains("ignore_index")) classes.ignore_index = field("ignore_index", int64_t{0});
  // 116 AAL labels fit under 255; larger label sets move the ignore value out of the way.
  if (classes.size() > classes.ignore_index && !manifest.contains("ignore_index")) {
    classes.ignore_index = -1;
  }
  DatasetOptions opts = options;
  opts.dims = dims;
  opts.slice_axis = axis;
  opts.include_empty_slices = options.include_empty_slices || field("include_empty_slices", false);
  std::unique_ptr<SegmentationDataset> data;
  if (dims == 3) {
    data = std::make_unique<WholeVolumeDataset>(std::move(volume), std::move(ids), labels_path,
                                                std::move(classes), opts);
  } else {
    data = std::make_unique<VolumeSliceDataset>(std::move(volume), std::move(ids), labels_path,
                                                axis, std::move(classes), opts);
  }
  initialize_stats(*data, opts);
  if (dims == 3 && !opts.stats) {
    // Whole volumes: each by its own statistics (intensities differ by scan).
    auto stats = data->stats();
    stats.per_image = true;
    data->set_stats(stats);
  }
  return data;
}

}  // namespace revup
