// PNG, JPEG, TIFF, BMP and WebP through OpenCV. Only this file sees OpenCV.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "io/builtin_formats.h"

namespace revup {

namespace {

std::vector<uchar> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": file not found or unreadable");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Decoders tell a truncated file from a complete one only loosely (libpng
// warns and may return a partial image), so check the container first.
void check_complete(const std::vector<uchar>& bytes, const std::string& format,
                    const std::string& path) {
  if (bytes.empty()) throw std::runtime_error(path + ": empty file");
  auto ends_with = [&](std::initializer_list<uchar> tail) {
    return bytes.size() >= tail.size() &&
           std::equal(tail.begin(), tail.end(), bytes.end() - static_cast<long>(tail.size()));
  };
  if (format == "png" && !ends_with({0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82})) {
    throw std::runtime_error(path + ": truncated or corrupt PNG (no IEND chunk)");
  }
  if (format == "jpeg" && !ends_with({0xFF, 0xD9})) {
    // Some cameras pad after the end marker; only a missing one is an error.
    bool found = false;
    for (size_t i = bytes.size() >= 2 ? bytes.size() - 2 : 0; i > 1 && !found; --i) {
      found = bytes[i] == 0xFF && bytes[i + 1] == 0xD9;
      if (bytes.size() - i > 4096) break;
    }
    if (!found) throw std::runtime_error(path + ": truncated or corrupt JPEG (no end marker)");
  }
}

torch::Dtype dtype_of(int depth, const std::string& path) {
  switch (depth) {
    case CV_8U:
      return torch::kUInt8;
    case CV_8S:
      return torch::kInt8;
    case CV_16U:
      return torch::kInt32;  // widened: no uint16 in LibTorch 1.13
    case CV_16S:
      return torch::kInt16;
    case CV_32S:
      return torch::kInt32;
    case CV_32F:
      return torch::kFloat32;
    case CV_64F:
      return torch::kFloat64;
    default:
      throw std::runtime_error(path + ": unsupported pixel depth");
  }
}

Image decode(const std::string& path, const std::string& format) {
  const auto bytes = read_bytes(path);
  check_complete(bytes, format, path);
  cv::Mat mat = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  if (mat.empty()) throw std::runtime_error(path + ": unreadable or corrupt " + format + " image");
  if (mat.channels() == 3) cv::cvtColor(mat, mat, cv::COLOR_BGR2RGB);
  if (mat.channels() == 4) cv::cvtColor(mat, mat, cv::COLOR_BGRA2RGBA);
  const int depth = mat.depth();
  if (depth == CV_16U) mat.convertTo(mat, CV_32S);  // convertTo keeps the channel count
  const auto stored = depth == CV_16U ? torch::kInt32 : dtype_of(depth, path);
  const auto hwc =
      torch::from_blob(mat.data, {mat.rows, mat.cols, mat.channels()},
                       {static_cast<int64_t>(mat.step1()), static_cast<int64_t>(mat.channels()), 1},
                       torch::TensorOptions().dtype(stored));
  Image image;
  // clone: permute() of one channel is already contiguous, and the Mat dies here.
  image.pixels = hwc.permute({2, 0, 1}).clone(torch::MemoryFormat::Contiguous);
  if (image.pixels.scalar_type() == torch::kInt8) image.pixels = image.pixels.to(torch::kInt16);
  image.path = path;
  return image;
}

// Tensor [C, H, W] -> Mat in the depth the format can store.
cv::Mat to_mat(const torch::Tensor& chw, const std::string& format) {
  if (chw.dim() != 3) throw std::runtime_error(format + " stores 2D images only, not volumes");
  const int64_t c = chw.size(0);
  if (c != 1 && c != 3 && c != 4) {
    throw std::runtime_error(format + " stores 1, 3 or 4 channels, not " + std::to_string(c));
  }
  auto t = chw.permute({1, 2, 0}).contiguous().cpu();
  int depth = CV_8U;
  const auto dtype = t.scalar_type();
  const bool sixteen_ok = format == "png" || format == "tiff";
  if (dtype == torch::kUInt8) {
    depth = CV_8U;
  } else if (dtype == torch::kInt32 || dtype == torch::kInt64 || dtype == torch::kInt16) {
    const int64_t lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
    if (lo >= 0 && hi <= 255) {
      t = t.to(torch::kUInt8);
      depth = CV_8U;
    } else if (sixteen_ok && lo >= 0 && hi <= 65535) {
      t = t.to(torch::kInt32);  // cast to uint16 below (no torch dtype for it)
      depth = CV_16U;
    } else {
      throw std::runtime_error(format + " cannot store values in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]" +
                               (sixteen_ok ? "" : " (8-bit only; use .png or .tif for 16-bit)"));
    }
  } else if ((dtype == torch::kFloat32 || dtype == torch::kFloat64) && format == "tiff") {
    t = t.to(torch::kFloat32);
    depth = CV_32F;
  } else {
    throw std::runtime_error(format + " cannot store " + std::string(c10::toString(dtype)) +
                             " pixels");
  }
  const int rows = static_cast<int>(t.size(0)), cols = static_cast<int>(t.size(1));
  cv::Mat mat;
  if (depth == CV_16U) {
    cv::Mat wide(rows, cols, CV_MAKETYPE(CV_32S, static_cast<int>(c)), t.data_ptr());
    wide.convertTo(mat, CV_16U);
  } else {
    cv::Mat(rows, cols, CV_MAKETYPE(depth, static_cast<int>(c)), t.data_ptr()).copyTo(mat);
  }
  if (c == 3) cv::cvtColor(mat, mat, cv::COLOR_RGB2BGR);
  if (c == 4) cv::cvtColor(mat, mat, cv::COLOR_RGBA2BGRA);
  return mat;
}

void encode(const cv::Mat& mat, const std::string& extension, const std::string& path) {
  std::vector<uchar> bytes;
  std::vector<int> params;
  if (extension == ".jpg") params = {cv::IMWRITE_JPEG_QUALITY, 95};
  if (extension == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};   // >100: lossless
  if (extension == ".tif") params = {cv::IMWRITE_TIFF_COMPRESSION, 5};  // LZW
  if (!cv::imencode(extension, mat, bytes, params)) {
    throw std::runtime_error("the " + extension + " encoder failed");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw std::runtime_error("write failed (disk full or no permission?)");
}

void add_format(FormatRegistry& registry, const std::string& name,
                std::vector<std::string> extensions, bool masks) {
  const std::string encoder_extension = extensions.front();
  ImageFormat f;
  f.name = name;
  f.extensions = std::move(extensions);
  f.read = [name](const std::string& path) { return decode(path, name); };
  f.write = [name, encoder_extension](const Image& image, const std::string& path) {
    encode(to_mat(image.pixels, name), encoder_extension, path);
  };
  if (masks) {  // lossless formats only: a JPEG would blur class ids
    f.write_mask = [name, encoder_extension](const torch::Tensor& mask, const ClassTable&,
                                             const Image&, const std::string& path) {
      if (mask.dim() != 2) throw std::runtime_error(name + " masks are 2D");
      encode(to_mat(mask.unsqueeze(0), name), encoder_extension, path);
    };
  }
  registry.add(std::move(f));
}

}  // namespace

void register_opencv_formats(FormatRegistry& registry) {
  add_format(registry, "png", {".png"}, true);
  add_format(registry, "jpeg", {".jpg", ".jpeg", ".jpe"}, false);
  add_format(registry, "tiff", {".tif", ".tiff"}, true);
  // BMP and WebP decode grey images as colour: no masks in them.
  add_format(registry, "bmp", {".bmp"}, false);
  add_format(registry, "webp", {".webp"}, false);
}

bool have_opencv_formats() { return true; }

}  // namespace revup
