#include "io/format_registry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "core/atomic_file.h"
#include "io/builtin_formats.h"
#include "io/plugin_loader.h"

namespace revup {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Runs `f`; an error that does not already name the file is prefixed with it.
template <typename F>
auto naming_file(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw std::runtime_error(path + ": " + what);
  } catch (...) {  // a plugin's reader may throw anything
    throw std::runtime_error(path + ": the reader failed with an exception of unknown type");
  }
}

// A reader's image must be what every caller indexes: [C, H, W] or
// [C, D, H, W] with a channel. Plugins' readers are not ours to trust.
Image checked(Image image, const ImageFormat& format, const std::string& path) {
  const auto& p = image.pixels;
  if (!p.defined() || p.dim() < 3 || p.dim() > 4 || p.size(0) < 1) {
    throw std::runtime_error(
        path + ": format '" + format.name + "' read " +
        (p.defined() ? "pixels of shape " + c10::str(p.sizes()) : "no pixels") +
        ", not [C, H, W] or [C, D, H, W]");
  }
  return image;
}

void require_exists(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::runtime_error(path + ": file not found");
}

}  // namespace

void FormatRegistry::add(ImageFormat format) {
  format.origin = origin_;
  for (auto& e : format.extensions) e = lower(e);
  auto shared = std::make_shared<ImageFormat>(std::move(format));
  formats_.push_back(shared);
  for (const auto& e : shared->extensions) by_extension_[e] = shared;
  if (shared->reads_folders) folder_format_ = shared;
}

const ImageFormat* FormatRegistry::find(const std::string& path) const {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return folder_format_.get();
  const std::string name = lower(fs::path(path).filename().string());
  const ImageFormat* best = nullptr;
  size_t best_length = 0;
  for (const auto& [ext, format] : by_extension_) {
    if (ext.size() > best_length && name.size() > ext.size() &&
        name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
      best = format.get();
      best_length = ext.size();
    }
  }
  return best;
}

std::vector<std::string> FormatRegistry::extensions() const {
  std::vector<std::string> out;
  for (const auto& [ext, format] : by_extension_) out.push_back(ext);
  return out;
}

const ImageFormat& FormatRegistry::format_for(const std::string& path) const {
  if (const auto* f = find(path)) return *f;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw std::runtime_error(path + ": is a folder, and no format that reads folders " +
                             "(DICOM series: the ITK plugin) is loaded");
  }
  const std::string ext = fs::path(path).extension().string();
  throw std::runtime_error(path + ": unknown image format '" + ext +
                           "' (known: " + join(extensions()) + ")");
}

FormatRegistry& default_registry() {
  static FormatRegistry registry;
  static std::once_flag once;
  std::call_once(once, [] {
    register_builtin_formats(registry);
    default_plugin_loader().load_all(registry, plugin_search_paths());
  });
  return registry;
}

Image read_image(const FormatRegistry& registry, const std::string& path) {
  require_exists(path);
  const auto& format = registry.format_for(path);
  if (!format.read) throw std::runtime_error(path + ": format '" + format.name + "' cannot read");
  Image image = checked(naming_file(path, [&] { return format.read(path); }), format, path);
  image.path = path;
  return image;
}

Image read_image(const std::string& path) { return read_image(default_registry(), path); }

ImageInfo read_image_info(const std::string& path) {
  require_exists(path);
  const auto& format = default_registry().format_for(path);
  if (format.info) return naming_file(path, [&] { return format.info(path); });
  const Image image = read_image(path);
  ImageInfo info;
  info.channels = image.channels();
  info.depth = image.depth();
  info.height = image.height();
  info.width = image.width();
  info.dtype = image.pixels.scalar_type();
  return info;
}

Image read_image_window(const std::string& path, const Window& window) {
  require_exists(path);
  const auto& format = default_registry().format_for(path);
  Window w = window;
  if (w.out_width <= 0) w.out_width = w.width;
  if (w.out_height <= 0) w.out_height = w.height;
  if (format.read_window) {
    Image image =
        checked(naming_file(path, [&] { return format.read_window(path, w); }), format, path);
    image.path = path;
    return image;
  }
  // Without native windows: read all, crop, average down.
  Image image = read_image(path);
  if (image.is_volume()) throw std::runtime_error(path + ": windows are for 2D images");
  if (w.x < 0 || w.y < 0 || w.width <= 0 || w.height <= 0 || w.x + w.width > image.width() ||
      w.y + w.height > image.height()) {
    throw std::runtime_error(path + ": window outside the image");
  }
  auto crop = image.pixels.slice(1, w.y, w.y + w.height).slice(2, w.x, w.x + w.width);
  if (w.out_width != w.width || w.out_height != w.height) {
    const auto dtype = crop.scalar_type();
    auto resized = torch::adaptive_avg_pool2d(crop.to(torch::kFloat64).unsqueeze(0),
                                              {w.out_height, w.out_width})
                       .squeeze(0);
    crop = torch::isFloatingType(dtype) ? resized.to(dtype) : resized.round().to(dtype);
  }
  image.pixels = crop.contiguous();
  if (image.geo) {  // the window's own origin and pixel size
    auto& t = image.geo->transform;
    const double sx = static_cast<double>(w.width) / w.out_width;
    const double sy = static_cast<double>(w.height) / w.out_height;
    t = {t[0] + w.x * t[1] + w.y * t[2], t[1] * sx, t[2] * sy,
         t[3] + w.x * t[4] + w.y * t[5], t[4] * sx, t[5] * sy};
  }
  return image;
}

void write_image(const FormatRegistry& registry, const Image& image, const std::string& path) {
  const auto& format = registry.format_for(path);
  if (!format.write) {
    throw std::runtime_error(path + ": format '" + format.name + "' cannot write images");
  }
  if (!image.pixels.defined() || image.pixels.dim() < 3 || image.pixels.dim() > 4) {
    throw std::runtime_error(path + ": cannot write, pixels must be [C, H, W] or [C, D, H, W]");
  }
  write_atomically(path, [&](const std::string& tmp) { format.write(image, tmp); });
}

void write_image(const Image& image, const std::string& path) {
  write_image(default_registry(), image, path);
}

void write_mask(const FormatRegistry& registry, const torch::Tensor& mask,
                const ClassTable& classes, const Image& reference, const std::string& path) {
  const auto& format = registry.format_for(path);
  if (!format.write_mask) {
    throw std::runtime_error(path + ": format '" + format.name + "' cannot write masks");
  }
  if (!mask.defined() || mask.dim() < 2 || mask.dim() > 3) {
    throw std::runtime_error(path + ": cannot write, a mask must be [H, W] or [D, H, W]");
  }
  if (reference.pixels.defined()) {
    const auto ref = reference.pixels.sizes().slice(1);  // without channels
    if (ref != mask.sizes()) {
      throw std::runtime_error(path + ": mask of size " + c10::str(mask.sizes()) +
                               " does not match its image " + reference.path + " of size " +
                               c10::str(ref));
    }
  }
  const auto ids = mask.to(torch::kInt64).contiguous();
  write_atomically(
      path, [&](const std::string& tmp) { format.write_mask(ids, classes, reference, tmp); });
}

void write_mask(const torch::Tensor& mask, const ClassTable& classes, const Image& reference,
                const std::string& path) {
  write_mask(default_registry(), mask, classes, reference, path);
}

}  // namespace revup
