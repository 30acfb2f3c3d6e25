#include "io/idx_dataset.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace revup {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

void read_exactly(gzFile file, void* out, size_t n, const std::string& path, const char* what) {
  const int got = gzread(file, out, static_cast<unsigned>(n));
  if (got < 0 || static_cast<size_t>(got) != n) {
    throw std::runtime_error(path + ": truncated or corrupt IDX file (" + what + " ended early)");
  }
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": file not found");
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));  // reads plain files too
  if (!file) throw std::runtime_error(path + ": cannot be opened");
  unsigned char magic[4];
  read_exactly(file.get(), magic, 4, path, "header");
  if (magic[0] != 0 || magic[1] != 0) throw std::runtime_error(path + ": not an IDX file");
  if (magic[2] != 0x08) throw std::runtime_error(path + ": IDX data is not unsigned bytes");
  const int dims = magic[3];
  if (dims < 1 || dims > 4)
    throw std::runtime_error(path + ": IDX file has " + std::to_string(dims) + " dimensions");
  std::vector<int64_t> shape;
  constexpr int64_t kMaxCount = int64_t{1} << 34;
  int64_t count = 1;
  for (int d = 0; d < dims; ++d) {
    unsigned char b[4];
    read_exactly(file.get(), b, 4, path, "header");
    const int64_t n = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    shape.push_back(n);
    if (n == 0 || count > kMaxCount / n) throw std::runtime_error(path + ": implausible IDX shape");
    count *= n;
  }
  // The header's shape is only a claim, and a .gz file's length says nothing
  // of what it inflates to: the data is read in chunks as it arrives, so a
  // short file costs what it holds, not what its header says.
  std::vector<uint8_t> bytes;
  constexpr int64_t kChunk = int64_t{1} << 20;
  while (static_cast<int64_t>(bytes.size()) < count) {
    const auto n =
        static_cast<size_t>(std::min(kChunk, count - static_cast<int64_t>(bytes.size())));
    const size_t at = bytes.size();
    bytes.resize(at + n);
    read_exactly(file.get(), bytes.data() + at, n, path, "data");
  }
  // Copied once into LibTorch's allocator, whose bytes RevUp counts (memory
  // is measured from it, not from RSS); the chunks are freed on return.
  return torch::from_blob(bytes.data(), shape, torch::kUInt8).clone();
}

IdxClassificationDataset::IdxClassificationDataset(const std::string& images_path,
                                                   const std::string& labels_path, int64_t limit) {
  auto images = read_idx(images_path);
  auto labels = read_idx(labels_path);
  if (images.dim() != 3) throw std::runtime_error(images_path + ": expected [N, H, W] images");
  if (labels.dim() != 1) throw std::runtime_error(labels_path + ": expected [N] labels");
  if (images.size(0) != labels.size(0)) {
    throw std::runtime_error(images_path + " has " + std::to_string(images.size(0)) +
                             " images but " + labels_path + " has " +
                             std::to_string(labels.size(0)) + " labels");
  }
  if (limit > 0 && limit < images.size(0)) {
    images = images.narrow(0, 0, limit);
    labels = labels.narrow(0, 0, limit);
  }
  images_ = images.unsqueeze(1).to(torch::kFloat32).div_(255.0).contiguous();
  labels_ = labels.to(torch::kLong).contiguous();
}

void IdxClassificationDataset::normalize(double mean, double std) {
  if (!(std > 0)) throw std::invalid_argument("normalization std must be > 0");
  images_.sub_(mean).div_(std);
}

Example IdxClassificationDataset::get(size_t i) const {
  const auto k = static_cast<int64_t>(i);
  return {images_[k], labels_[k]};
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

}  // namespace revup
