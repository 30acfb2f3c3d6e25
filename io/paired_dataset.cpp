// Layouts (a), (b) and (c): one image file and one mask file per example.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "io/dataset_layouts.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "io/npy.h"

namespace revup {

namespace fs = std::filesystem;

namespace {

struct Pair {
  std::string name, image, mask;
};

// A mask file's raw values [H, W] int64: .npy arrays as stored (labelme's
// -1 kept), one-channel images as stored, colour images (VOC palette PNGs,
// which OpenCV expands) as class ids through a class table's colours or,
// without one, as RGB codes (r << 16 | g << 8 | b).
struct RawMask {
  torch::Tensor values;
  bool colour = false;
};

RawMask read_raw_mask(const std::string& path, const std::optional<ClassTable>& table) {
  if (fs::path(path).extension() == ".npy") {
    auto ids = read_npy(path).to(torch::kInt64);
    if (ids.dim() != 2) throw std::runtime_error(path + ": a mask must be [H, W]");
    return {ids, false};
  }
  const Image m = read_image(path);
  if (m.is_volume()) throw std::runtime_error(path + ": a 2D mask was expected, not a volume");
  if (m.channels() == 1) {
    if (torch::isFloatingType(m.pixels.scalar_type())) {
      throw std::runtime_error(path + ": a mask must hold integer class ids, not floats");
    }
    return {m.pixels[0].to(torch::kInt64), false};
  }
  if (m.channels() >= 3) {
    // Always colours, never grey ids: VOC's "car" is (128, 128, 128).
    const auto rgb = m.pixels.to(torch::kUInt8);
    if (table) return {colors_to_ids(rgb, *table, path), false};
    const auto c = rgb.slice(0, 0, 3).to(torch::kInt64);
    return {c[0] * 65536 + c[1] * 256 + c[2], true};
  }
  throw std::runtime_error(path + ": a mask must have 1 channel (ids) or 3 (colours)");
}

class PairedFilesDataset : public SegmentationDataset {
 public:
  // Reads every mask once: the values they hold decide how they are read
  // (or are checked against the reading given), before any training.
  PairedFilesDataset(std::vector<Pair> pairs, std::optional<ClassTable> table, bool voc,
                     std::string layout, const std::string& root, DatasetOptions options)
      : pairs_(std::move(pairs)), table_(std::move(table)), layout_(std::move(layout)) {
    options_ = std::move(options);
    if (options_.classes) table_ = options_.classes;
    bool colour = false;
    for (size_t i = 0; i < pairs_.size(); ++i) {
      const auto raw = read_raw_mask(pairs_[i].mask, table_);
      if (i > 0 && raw.colour != colour) {
        throw std::runtime_error(pairs_[i].mask + ": " +
                                 (raw.colour ? "a colour" : "a one-channel") + " mask among " +
                                 (colour ? "colour" : "one-channel") + " masks");
      }
      colour = raw.colour;
      value_counts_.push_back(count_values(raw.values));
    }
    const auto all = mask_values(all_indices(pairs_.size()));
    if (options_.reading) {
      reading_ = options_.reading->reading;
      classes_ = options_.reading->classes;
    } else {
      reading_ =
          decide_mask_reading(all, colour, voc, table_, options_.mask_values, root, classes_);
      check_learnable(reading_, all, classes_, root);
    }
    for (size_t i = 0; i < pairs_.size(); ++i) check_values(value_counts_[i], pairs_[i].mask);
  }
  size_t size() const override { return pairs_.size(); }
  std::string name(size_t i) const override { return pairs_.at(i).name; }
  std::string mask_source(size_t i) const override { return pairs_.at(i).mask; }
  std::string layout() const override { return layout_; }
  Image image(size_t i) const override { return read_image(pairs_.at(i).image); }
  torch::Tensor mask(size_t i) const override {
    const auto& path = pairs_.at(i).mask;
    auto ids = reading_.apply(read_raw_mask(path, table_).values, path);
    check_ids(ids, path);
    return ids;
  }

 private:
  std::vector<Pair> pairs_;
  std::optional<ClassTable> table_;
  std::string layout_;

  // The same check as check_ids, on the values alone: fails at open, naming
  // the first file with a value the reading cannot place.
  void check_values(const ValueCounts& counts, const std::string& path) const {
    for (const auto& [v, c] : counts) {
      const auto id = reading_.class_of(v);
      if (!id) {
        reading_.apply(torch::full({1}, v, torch::kInt64), path);  // throws its message
      } else if (*id != reading_.ignore_index) {
        check_ids(torch::full({1}, *id, torch::kInt64), path);
      }
    }
  }
};

bool is_image_file(const fs::path& p) { return default_registry().find(p.string()) != nullptr; }

// Readable files by stem (the first in name order wins a shared stem),
// optionally only those with the `only` extensions.
std::map<std::string, fs::path> files_by_stem(const fs::path& dir,
                                              const std::vector<std::string>& only = {}) {
  std::map<std::string, fs::path> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(), f.extension().string()) == only.end()) {
      continue;
    }
    if (!is_image_file(f) && f.extension() != ".npy") continue;
    out.emplace(f.stem().string(), f);
  }
  return out;
}

std::vector<Pair> match(const fs::path& images_dir, const fs::path& masks_dir,
                        const std::vector<std::string>& mask_extensions = {}) {
  const auto images = files_by_stem(images_dir);
  const auto masks = files_by_stem(masks_dir, mask_extensions);
  std::vector<Pair> pairs;
  for (const auto& [stem, image] : images) {
    const auto m = masks.find(stem);
    if (m == masks.end()) {
      throw std::runtime_error(image.string() + ": no mask with the same name in " +
                               masks_dir.string());
    }
    pairs.push_back({stem, image.string(), m->second.string()});
  }
  if (pairs.empty()) throw std::runtime_error(images_dir.string() + ": no images");
  return pairs;
}

// Class names from the files a user is likely to have next to the data.
std::optional<ClassTable> class_file(const fs::path& root) {
  for (const char* name : {"classes.json", "class_names.txt", "labels.txt"}) {
    if (fs::is_regular_file(root / name)) return read_class_table_file((root / name).string());
  }
  return std::nullopt;
}

std::unique_ptr<SegmentationDataset> finish(std::unique_ptr<SegmentationDataset> data,
                                            const DatasetOptions& options) {
  initialize_stats(*data, options);
  return data;
}

}  // namespace

std::unique_ptr<SegmentationDataset> open_folder_pairs(const std::string& root,
                                                       const DatasetOptions& options) {
  const fs::path r(root);
  auto pairs = match(r / "images", r / "masks");
  return finish(std::make_unique<PairedFilesDataset>(std::move(pairs), class_file(r), false,
                                                     "folders", root, options),
                options);
}

std::unique_ptr<SegmentationDataset> open_voc(const std::string& root,
                                              const DatasetOptions& options) {
  const fs::path r(root);
  std::vector<Pair> pairs;
  // labelme's .npy arrays hold the exact ids (and -1 for ignore); the PNGs
  // only their palette colours.
  if (fs::is_directory(r / "SegmentationClass") &&
      !files_by_stem(r / "SegmentationClass", {".npy"}).empty()) {
    pairs = match(r / "JPEGImages", r / "SegmentationClass", {".npy"});
  } else if (fs::is_directory(r / "SegmentationClassPNG")) {
    pairs = match(r / "JPEGImages", r / "SegmentationClassPNG");
  } else if (fs::is_directory(r / "SegmentationClass")) {
    pairs = match(r / "JPEGImages", r / "SegmentationClass");
  } else {
    throw std::runtime_error(root + ": VOC layout without SegmentationClass/ or " +
                             "SegmentationClassPNG/");
  }
  auto classes = class_file(r);
  if (!classes) {
    classes = ClassTable::from_names(
        {"background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
         "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
         "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"});
  }
  return finish(std::make_unique<PairedFilesDataset>(std::move(pairs), std::move(classes), true,
                                                     "voc", root, options),
                options);
}

std::unique_ptr<SegmentationDataset> open_pair_manifest(const std::string& path,
                                                        const nlohmann::json& manifest,
                                                        const DatasetOptions& options) {
  const fs::path base = fs::path(path).parent_path();
  std::vector<Pair> pairs;
  try {
    for (const auto& p : manifest.at("pairs")) {
      const fs::path image = base / p.at("image").get<std::string>();
      const fs::path mask = base / p.at("mask").get<std::string>();
      for (const auto& f : {image, mask}) {
        if (!fs::exists(f)) throw std::runtime_error(f.string() + ": file not found");
      }
      pairs.push_back({p.value("name", image.stem().string()), image.string(), mask.string()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad manifest (" + e.what() + ")");
  }
  if (pairs.empty()) throw std::runtime_error(path + ": manifest lists no pairs");
  std::optional<ClassTable> table;
  if (manifest.contains("classes")) {
    try {
      table = manifest.get<ClassTable>();
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": bad class list (" + e.what() + ")");
    }
  }
  return finish(std::make_unique<PairedFilesDataset>(std::move(pairs), std::move(table), false,
                                                     "manifest", path, options),
                options);
}

}  // namespace revup
