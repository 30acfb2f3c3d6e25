// ui/models/label_files: loadLabelFile, the GUI's reader of a saved label
// map and the class table beside it. The input is two files: its first two
// bytes give the length of NAME.labels.npy's bytes, the rest is
// NAME.classes.json (left out when empty). The image is [4, 6], as the
// corpus's label maps are.
#include <QString>

#include <filesystem>

#include "tests/fuzz/fuzz_util.h"
#include "ui/models/label_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  fuzz::init_torch();
  const size_t claimed = size < 2 ? 0 : data[0] | (data[1] << 8);
  const size_t rest = size < 2 ? 0 : size - 2;
  const size_t mask_size = std::min(claimed, rest);
  const auto labels = fuzz::write_input("scene.labels.npy", data + 2 * (size >= 2), mask_size);
  const auto table = fuzz::scratch_dir() + "/scene.classes.json";
  if (rest > mask_size) {
    fuzz::write_input("scene.classes.json", data + 2 + mask_size, rest - mask_size);
  } else {
    std::filesystem::remove(table);
  }
  ClassTable classes = ClassTable::numbered(2);
  torch::Tensor ids;
  const bool read = fuzz::expect_clear_error(fuzz::scratch_dir(), [&] {
    ids = ui::loadLabelFile(QString::fromStdString(labels), {4, 6}, classes);
  });
  if (!read) return 0;
  // What the label editor and overlay rely on: uint8 ids of the image's
  // size, each a class of the table or 255 (unlabelled).
  if (ids.scalar_type() != torch::kUInt8 || ids.sizes() != c10::IntArrayRef({4, 6})) {
    fuzz::fail("loadLabelFile returned labels of another type or size");
  }
  const auto labelled = ids.masked_select(ids.ne(255));
  if (labelled.numel() && labelled.max().item<int64_t>() >= classes.size()) {
    fuzz::fail("a label without a class");
  }
  return 0;
}
