// Layout (d): volumes and their label volumes (one, or a list), served whole
// (3D models) or as 2D slices along one axis. All are held in memory.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "core/json_number.h"
#include "core/label_ids.h"
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

// A volume with its label volume, as a manifest names them.
struct LabelledVolume {
  Image volume;
  torch::Tensor labels;  // [D, H, W] int64
  std::string labels_path;
};

// The slices holding labels along one axis of every volume, as 2D images.
class VolumeSliceDataset : public SegmentationDataset {
 public:
  VolumeSliceDataset(std::vector<LabelledVolume> volumes, int axis, ClassTable classes,
                     DatasetOptions options)
      : volumes_(std::move(volumes)), axis_(axis) {
    classes_ = std::move(classes);
    options_ = std::move(options);
    std::vector<int64_t> other;
    for (int64_t d = 0; d < 3; ++d) {
      if (d != axis_) other.push_back(d);
    }
    for (size_t v = 0; v < volumes_.size(); ++v) {
      const auto& labels = volumes_[v].labels;
      check_ids(labels, volumes_[v].labels_path);
      const auto labelled = labels.gt(0).logical_and(labels.ne(classes_.ignore_index));
      const auto any = labelled.any(other[1]).any(other[0]);  // per slice along axis_
      const size_t before = slices_.size();
      for (int64_t k = 0; k < labels.size(axis_); ++k) {
        if (options_.include_empty_slices || any[k].item<bool>()) slices_.push_back({v, k});
      }
      if (slices_.size() == before) {
        throw std::runtime_error(volumes_[v].labels_path + ": no slice has a label");
      }
    }
  }
  size_t size() const override { return slices_.size(); }
  std::string layout() const override { return "volume"; }
  std::string name(size_t i) const override {
    const auto [v, k] = slices_.at(i);
    return fs::path(volumes_[v].volume.path).filename().string() + ":axis" + std::to_string(axis_) +
           ":" + std::to_string(k);
  }
  // The slice as a 2D image; `voxels` stays the volume's geometry.
  Image image(size_t i) const override {
    const auto [v, k] = slices_.at(i);
    Image slice = volumes_[v].volume;
    slice.pixels = slice.pixels.select(axis_ + 1, k).contiguous();
    return slice;
  }
  torch::Tensor mask(size_t i) const override {
    const auto [v, k] = slices_.at(i);
    return volumes_[v].labels.select(axis_, k).clone(torch::MemoryFormat::Contiguous);
  }

 private:
  std::vector<LabelledVolume> volumes_;
  int axis_;
  std::vector<std::pair<size_t, int64_t>> slices_;  // (volume, slice)
};

// Every volume whole, one example each, for 3D models.
class WholeVolumeDataset : public SegmentationDataset {
 public:
  WholeVolumeDataset(std::vector<LabelledVolume> volumes, ClassTable classes,
                     DatasetOptions options)
      : volumes_(std::move(volumes)) {
    classes_ = std::move(classes);
    options_ = std::move(options);
    for (const auto& v : volumes_) {
      check_ids(v.labels, v.labels_path);
      if (!v.labels.gt(0).logical_and(v.labels.ne(classes_.ignore_index)).any().item<bool>()) {
        throw std::runtime_error(v.labels_path + ": no voxel has a label");
      }
    }
  }
  size_t size() const override { return volumes_.size(); }
  std::string layout() const override { return "volume"; }
  int dims() const override { return 3; }
  std::string name(size_t i) const override {
    return fs::path(at(i).volume.path).filename().string();
  }
  Image image(size_t i) const override { return at(i).volume; }
  torch::Tensor mask(size_t i) const override { return at(i).labels; }
  std::string mask_source(size_t i) const override { return at(i).labels_path; }

 private:
  const LabelledVolume& at(size_t i) const {
    if (i >= volumes_.size()) {
      throw std::out_of_range("volume " + std::to_string(i) + " of a dataset of " +
                              std::to_string(volumes_.size()));
    }
    return volumes_[i];
  }
  std::vector<LabelledVolume> volumes_;
};

}  // namespace

namespace {

// A volume and its label volume, read and checked against each other.
LabelledVolume read_labelled_volume(const std::string& manifest_path,
                                    const std::string& volume_path,
                                    const std::string& labels_path) {
  Image volume = read_image(volume_path);
  const Image labels = read_image(labels_path);
  if (!volume.is_volume() || !labels.is_volume()) {
    throw std::runtime_error(manifest_path + ": " + volume_path + " and " + labels_path +
                             " must both be 3D");
  }
  if (labels.channels() != 1)
    throw std::runtime_error(labels_path + ": labels must have 1 channel");
  if (volume.pixels.sizes().slice(1) != labels.pixels.sizes().slice(1)) {
    throw std::runtime_error(labels_path + ": label volume of size " +
                             c10::str(labels.pixels.sizes().slice(1)) + " does not match " +
                             volume_path + " of size " + c10::str(volume.pixels.sizes().slice(1)));
  }
  // Kept for the whole training: in the smallest type its values fit
  // (core/label_ids.h), not int64.
  auto ids = compact_label_ids(labels.pixels[0], 0);
  if (ids.numel() == 0) throw std::runtime_error(labels_path + ": the label volume is empty");
  return {std::move(volume), std::move(ids), labels_path};
}

}  // namespace

std::unique_ptr<SegmentationDataset> open_volume_manifest(const std::string& path,
                                                          const nlohmann::json& manifest,
                                                          const DatasetOptions& options) {
  const fs::path base = fs::path(path).parent_path();
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
  auto relative = [&](const fs::path& p) { return (p.is_absolute() ? p : base / p).string(); };
  auto resolve = [&](const char* key) { return relative(field(key, std::string())); };
  // One volume ("volume", "labels") or several ("volumes": [{"volume",
  // "labels"}, ...]); the classes and options are the manifest's, for all.
  std::vector<std::pair<std::string, std::string>> files;  // (volume, labels)
  if (manifest.contains("volumes")) {
    const auto& list = manifest["volumes"];
    if (!list.is_array() || list.empty()) {
      throw std::runtime_error(path +
                               ": \"volumes\" must be a list of {\"volume\": FILE, "
                               "\"labels\": FILE}");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& entry = list[i];
      const auto is_file = [&](const char* key) {
        return entry.is_object() && entry.contains(key) && entry[key].is_string();
      };
      if (!is_file("volume") || !is_file("labels")) {
        throw std::runtime_error(path + ": volumes[" + std::to_string(i) +
                                 "] needs \"volume\" and \"labels\" (file names)");
      }
      files.emplace_back(relative(entry["volume"].get<std::string>()),
                         relative(entry["labels"].get<std::string>()));
    }
  } else {
    if (!manifest.contains("labels")) {
      throw std::runtime_error(path + ": the volume has no label volume (\"labels\" is missing)");
    }
    files.emplace_back(resolve("volume"), resolve("labels"));
  }
  int axis = options.slice_axis >= 0 ? options.slice_axis : field("axis", 0);
  if (axis < 0 || axis > 2) throw std::runtime_error(path + ": axis must be 0, 1 or 2");
  const int dims = options.dims > 0 ? options.dims : field("dims", 3);
  if (dims != 2 && dims != 3) {
    throw std::runtime_error(path + ": dims must be 3 (whole volumes) or 2 (slice by slice)");
  }
  std::vector<LabelledVolume> volumes;
  for (const auto& [volume_path, labels_path] : files) {
    volumes.push_back(read_labelled_volume(path, volume_path, labels_path));
    const auto channels = volumes.back().volume.channels();
    if (channels != volumes.front().volume.channels()) {
      throw std::runtime_error(volume_path + ": has " + std::to_string(channels) + " channels, " +
                               files.front().first + " has " +
                               std::to_string(volumes.front().volume.channels()));
    }
  }
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
    int64_t largest = 0;
    for (const auto& v : volumes) {
      const int64_t m = v.labels.max().item<int64_t>();
      if (m < 0 || m >= 65536) {
        throw std::runtime_error(v.labels_path + ": label values up to " + std::to_string(m) +
                                 " (expected 0..65535; name the classes with \"label_names\")");
      }
      largest = std::max(largest, m);
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
    data = std::make_unique<WholeVolumeDataset>(std::move(volumes), std::move(classes), opts);
  } else {
    data = std::make_unique<VolumeSliceDataset>(std::move(volumes), axis, std::move(classes), opts);
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
