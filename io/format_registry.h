#pragma once
// Readers and writers registered by name with the file extensions they
// handle; the format of a file is chosen from its extension. Built-in formats
// (OpenCV, NumPy) and plugins (GDAL, ITK, third-party) register here.
//
// Plugins see this header only: `add` is virtual so a plugin calls the host's
// implementation and links no RevUp library (see io/plugin_api.h).
#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/class_table.h"
#include "io/image.h"

namespace revup {

struct ImageFormat {
  std::string name;                     // "png", "gdal", "nifti", ...
  std::vector<std::string> extensions;  // lower case with the dot: ".png", ".nii.gz"
  bool reads_folders = false;           // a folder is one image (a DICOM series)
  std::string origin = "built-in";      // set by the registry to the plugin's path

  // Each may be empty (the format cannot do it). Writers write exactly the
  // path given: the registry hands them a path inside a temporary folder and
  // moves what they wrote into place, so they need no care about atomicity.
  std::function<Image(const std::string& path)> read;
  std::function<void(const Image& image, const std::string& path)> write;
  std::function<void(const torch::Tensor& mask, const ClassTable& classes, const Image& reference,
                     const std::string& path)>
      write_mask;
  std::function<ImageInfo(const std::string& path)> info;
  std::function<Image(const std::string& path, const Window& window)> read_window;
};

class FormatRegistry {
 public:
  virtual ~FormatRegistry() = default;
  // Registers a format; for an extension already taken, the latest wins
  // (plugins load after the built-ins, so GDAL takes over .tif from OpenCV).
  virtual void add(ImageFormat format);

  // The format for `path` (by its longest matching extension, case-insensitive;
  // folders go to a format that reads folders). Throws std::runtime_error
  // naming the file and listing the known extensions.
  const ImageFormat& format_for(const std::string& path) const;
  const ImageFormat* find(const std::string& path) const;
  std::vector<std::string> extensions() const;
  const std::vector<std::shared_ptr<ImageFormat>>& formats() const { return formats_; }

  // Where the plugin being loaded lives; stamped on the formats it adds.
  void set_current_origin(std::string origin) { origin_ = std::move(origin); }

 private:
  std::vector<std::shared_ptr<ImageFormat>> formats_;
  std::map<std::string, std::shared_ptr<ImageFormat>> by_extension_;
  std::shared_ptr<ImageFormat> folder_format_;
  std::string origin_ = "built-in";
};

// The process-wide registry: built-in formats, then the plugins found next to
// the executable and on REVUP_PLUGIN_PATH (loaded once, on first use).
FormatRegistry& default_registry();

// Reads with the format chosen from the extension. Errors are
// std::runtime_error naming the file and the problem.
Image read_image(const std::string& path);
Image read_image(const FormatRegistry& registry, const std::string& path);
ImageInfo read_image_info(const std::string& path);
// A window of a 2D image, averaged down to the requested output size (using
// the file's overviews where the format has them).
Image read_image_window(const std::string& path, const Window& window);

// Writes through a temporary folder beside `path` and renames into place: a
// failure leaves no partial file and never destroys an earlier result.
void write_image(const Image& image, const std::string& path);
void write_image(const FormatRegistry& registry, const Image& image, const std::string& path);

// `mask`: class ids [H, W] or [D, H, W] (int64); the reference's georeferencing
// or voxel geometry is copied where the format can hold it.
void write_mask(const torch::Tensor& mask, const ClassTable& classes, const Image& reference,
                const std::string& path);
void write_mask(const FormatRegistry& registry, const torch::Tensor& mask,
                const ClassTable& classes, const Image& reference, const std::string& path);

}  // namespace revup
