#include "io/npy.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>
#include <stdexcept>

#include "io/format_registry.h"

namespace revup {

namespace {

struct NpyType {
  const char* descr;
  torch::Dtype dtype;
};

// uint16 and uint32 widen losslessly (LibTorch 1.13 has neither).
constexpr NpyType kTypes[] = {{"|u1", torch::kUInt8},   {"|i1", torch::kInt8},
                              {"<i2", torch::kInt16},   {"<u2", torch::kInt32},
                              {"<i4", torch::kInt32},   {"<u4", torch::kInt64},
                              {"<i8", torch::kInt64},   {"<f4", torch::kFloat32},
                              {"<f8", torch::kFloat64}, {"|b1", torch::kBool}};

std::string header_value(const std::string& header, const std::string& key) {
  const std::regex re("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  std::smatch m;
  if (!std::regex_search(header, m, re)) return {};
  return m[1].str();
}

}  // namespace

torch::Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": file not found or unreadable");
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw std::runtime_error(path + ": not a .npy file (truncated or corrupt)");
  }
  // What the file holds, to check the header's sizes against before allocating.
  in.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  in.seekg(8);
  if (magic[6] < 1 || magic[6] > 3) {
    throw std::runtime_error(path + ": unsupported .npy version " + std::to_string(magic[6]));
  }
  uint32_t header_length = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_length = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_length = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  if (!in || header_length > file_size - static_cast<int64_t>(in.tellg())) {
    throw std::runtime_error(path + ": truncated .npy header");
  }
  // NumPy's own limit (numpy.load's max_header_size): std::regex below
  // recurses per character, and a header of 60 KB overflowed the stack.
  if (header_length > 10000) {
    throw std::runtime_error(path + ": .npy header of " + std::to_string(header_length) +
                             " bytes (NumPy reads at most 10000)");
  }
  std::string header(header_length, '\0');
  in.read(header.data(), header_length);
  if (!in) throw std::runtime_error(path + ": truncated .npy header");

  std::string descr = header_value(header, "descr");
  if (descr.size() >= 2) descr = descr.substr(1, descr.size() - 2);
  if (descr == "<u1" || descr == "u1") descr = "|u1";
  if (descr == "<i1" || descr == "i1") descr = "|i1";
  if (descr == "<b1" || descr == "?" || descr == "|?") descr = "|b1";
  const NpyType* type = nullptr;
  for (const auto& t : kTypes) {
    if (descr == t.descr) type = &t;
  }
  if (type == nullptr) throw std::runtime_error(path + ": unsupported .npy dtype '" + descr + "'");
  const bool fortran = header_value(header, "fortran_order") == "True";
  std::vector<int64_t> shape;
  const std::string shape_text = header_value(header, "shape");
  const std::regex number("\\d+");
  for (auto it = std::sregex_iterator(shape_text.begin(), shape_text.end(), number);
       it != std::sregex_iterator(); ++it) {
    // More digits than an int64 holds is no shape a file can fill.
    if (it->length() > 18)
      throw std::runtime_error(path + ": implausible .npy shape " + shape_text);
    shape.push_back(std::stoll(it->str()));
  }
  if (shape_text.empty()) throw std::runtime_error(path + ": .npy header has no shape");

  // Read in the stored element type, then widen.
  const auto stored = descr == "<u2" ? torch::kInt16 : descr == "<u4" ? torch::kInt32 : type->dtype;
  // The data must be in the file before anything is allocated for it: a
  // header may claim any shape. The product (of the non-zero sizes: an empty
  // array's others too) is taken without overflow.
  const int64_t available = file_size - static_cast<int64_t>(in.tellg());
  int64_t elements = 1;
  bool empty = false;
  for (const auto n : shape) {
    if (n == 0) {
      empty = true;
      continue;
    }
    if (elements > std::numeric_limits<int64_t>::max() / n) {
      throw std::runtime_error(path + ": implausible .npy shape " + shape_text);
    }
    elements *= n;
  }
  const auto item = static_cast<int64_t>(c10::elementSize(stored));
  if (!empty && elements > available / item) {
    throw std::runtime_error(path + ": truncated (shape " + shape_text + " needs more than the " +
                             std::to_string(available) + " data bytes the file holds)");
  }
  std::vector<int64_t> read_shape = shape;
  if (fortran) std::reverse(read_shape.begin(), read_shape.end());
  auto raw = torch::empty(read_shape, torch::TensorOptions().dtype(stored));
  const auto bytes = static_cast<std::streamsize>(raw.numel() * raw.element_size());
  in.read(static_cast<char*>(raw.data_ptr()), bytes);
  if (in.gcount() != bytes) {
    throw std::runtime_error(path + ": truncated (" + std::to_string(in.gcount()) + " of " +
                             std::to_string(bytes) + " data bytes)");
  }
  if (descr == "<u2") raw = raw.to(torch::kInt32).bitwise_and(0xFFFF);
  if (descr == "<u4") raw = raw.to(torch::kInt64).bitwise_and(int64_t{0xFFFFFFFF});
  if (fortran) {
    std::vector<int64_t> order;
    for (int64_t d = raw.dim() - 1; d >= 0; --d) order.push_back(d);
    raw = raw.permute(order).contiguous();
  }
  return raw;
}

void write_npy(const torch::Tensor& array, const std::string& path) {
  const auto a = array.contiguous().cpu();
  const char* descr = nullptr;
  for (const auto& t : kTypes) {
    if (t.dtype == a.scalar_type() && std::string(t.descr) != "<u2" &&
        std::string(t.descr) != "<u4") {
      descr = t.descr;
    }
  }
  if (descr == nullptr) throw std::runtime_error(path + ": dtype not writable as .npy");
  std::string shape = "(";
  for (auto s : a.sizes()) shape += std::to_string(s) + ", ";
  if (a.dim() > 1) shape.resize(shape.size() - 2);
  shape += ")";
  std::string header =
      "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');  // aligned, as NumPy does
  header += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xFF),
                       static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header;
  out.write(static_cast<const char*>(a.data_ptr()),
            static_cast<std::streamsize>(a.numel() * a.element_size()));
  out.flush();
  if (!out) throw std::runtime_error(path + ": write failed (disk full or no permission?)");
}

// A .npy array as an image: [H, W] -> one channel; [H, W, C] -> channels last
// as NumPy images are; [D, H, W] stays 3-D only through read_npy.
void register_numpy_format(FormatRegistry& registry) {
  ImageFormat f;
  f.name = "numpy";
  f.extensions = {".npy"};
  f.read = [](const std::string& path) {
    auto a = read_npy(path);
    if (a.scalar_type() == torch::kBool || a.scalar_type() == torch::kInt8) a = a.to(torch::kInt16);
    Image image;
    if (a.dim() == 2) {
      image.pixels = a.unsqueeze(0);
    } else if (a.dim() == 3) {
      image.pixels = a.permute({2, 0, 1}).contiguous();
    } else {
      throw std::runtime_error("a .npy image must be [H, W] or [H, W, C], not " +
                               c10::str(a.sizes()));
    }
    return image;
  };
  f.write = [](const Image& image, const std::string& path) {
    if (image.is_volume()) throw std::runtime_error("volumes are not written as .npy");
    write_npy(image.channels() == 1 ? image.pixels[0] : image.pixels.permute({1, 2, 0}), path);
  };
  f.write_mask = [](const torch::Tensor& mask, const ClassTable&, const Image&,
                    const std::string& path) { write_npy(mask.to(torch::kInt32), path); };
  registry.add(std::move(f));
}

}  // namespace revup
