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

class PairedFilesDataset : public SegmentationDataset {
 public:
  PairedFilesDataset(std::vector<Pair> pairs, ClassTable classes, std::string layout,
                     DatasetOptions options)
      : pairs_(std::move(pairs)), layout_(std::move(layout)) {
    classes_ = std::move(classes);
    options_ = std::move(options);
  }
  size_t size() const override { return pairs_.size(); }
  std::string name(size_t i) const override { return pairs_.at(i).name; }
  std::string mask_source(size_t i) const override { return pairs_.at(i).mask; }
  std::string layout() const override { return layout_; }
  Image image(size_t i) const override { return read_image(pairs_.at(i).image); }
  torch::Tensor mask(size_t i) const override {
    auto ids = read_ids(pairs_.at(i).mask, classes_);
    check_ids(ids, pairs_.at(i).mask);
    return ids;
  }

  // A mask file as class ids: .npy arrays as stored (labelme's -1 is
  // ignore), one-channel images as ids, colour images (VOC palette PNGs,
  // which OpenCV expands) through the class colours.
  static torch::Tensor read_ids(const std::string& path, const ClassTable& classes) {
    if (fs::path(path).extension() == ".npy") {
      auto ids = read_npy(path).to(torch::kInt64);
      if (ids.dim() != 2) throw std::runtime_error(path + ": a mask must be [H, W]");
      return ids.masked_fill(ids.lt(0), classes.ignore_index);
    }
    const Image m = read_image(path);
    if (m.is_volume()) throw std::runtime_error(path + ": a 2D mask was expected, not a volume");
    if (m.channels() == 1) {
      if (torch::isFloatingType(m.pixels.scalar_type())) {
        throw std::runtime_error(path + ": a mask must hold integer class ids, not floats");
      }
      return m.pixels[0].to(torch::kInt64);
    }
    if (m.channels() >= 3) {
      // Always colours, never grey ids: VOC's "car" is (128, 128, 128).
      return colors_to_ids(m.pixels.to(torch::kUInt8), classes, path);
    }
    throw std::runtime_error(path + ": a mask must have 1 channel (ids) or 3 (colours)");
  }

 private:
  std::vector<Pair> pairs_;
  std::string layout_;
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
  if (fs::is_regular_file(root / "classes.json")) {
    std::ifstream in(root / "classes.json");
    try {
      return nlohmann::json::parse(in).get<ClassTable>();
    } catch (const std::exception& e) {
      throw std::runtime_error((root / "classes.json").string() + ": " + e.what());
    }
  }
  for (const char* name : {"class_names.txt", "labels.txt"}) {
    if (fs::is_regular_file(root / name)) {
      return ClassTable::from_labelme_file((root / name).string());
    }
  }
  return std::nullopt;
}

// Without a class list: as many classes as the largest id in any mask
// (the ignore value aside) says.
ClassTable infer_classes(const std::vector<Pair>& pairs) {
  ClassTable probe = ClassTable::numbered(0);
  int64_t top = 0;
  for (const auto& p : pairs) {
    const Image m = read_image(p.mask);
    if (m.channels() != 1) {
      throw std::runtime_error(p.mask + ": colour masks need a class list (classes.json, " +
                               "class_names.txt or labels.txt)");
    }
    auto ids = m.pixels.to(torch::kInt64);
    ids = ids.masked_select(ids.ne(probe.ignore_index));
    if (ids.numel() > 0) top = std::max(top, ids.max().item<int64_t>());
  }
  auto table = ClassTable::numbered(std::max<int64_t>(top + 1, 2));
  table.classes[0].name = "background";
  return table;
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
  auto classes = class_file(r);
  ClassTable table = classes ? *classes : infer_classes(pairs);
  return finish(
      std::make_unique<PairedFilesDataset>(std::move(pairs), std::move(table), "folders", options),
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
  return finish(
      std::make_unique<PairedFilesDataset>(std::move(pairs), std::move(*classes), "voc", options),
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
  ClassTable table;
  if (manifest.contains("classes")) {
    try {
      table = manifest.get<ClassTable>();
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": bad class list (" + e.what() + ")");
    }
  } else {
    table = infer_classes(pairs);
  }
  return finish(
      std::make_unique<PairedFilesDataset>(std::move(pairs), std::move(table), "manifest", options),
      options);
}

}  // namespace revup
