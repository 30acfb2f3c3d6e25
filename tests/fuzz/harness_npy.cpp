// io/npy: read_npy on any bytes. The header's shape must not drive an
// allocation larger than the file can fill.
#include "io/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  fuzz::init_torch();
  const auto path = fuzz::write_input("input.npy", data, size);
  torch::Tensor array;
  if (!fuzz::expect_clear_error(path, [&] { array = read_npy(path); })) return 0;
  // What it returns is a whole array: every element was in the file.
  if (!array.defined() || !array.is_contiguous()) fuzz::fail("read_npy returned a bad tensor");
  if (array.numel() * array.element_size() > static_cast<int64_t>(size)) {
    if (array.scalar_type() != torch::kInt32 && array.scalar_type() != torch::kInt64) {
      fuzz::fail("read_npy returned more data than the file holds");  // widened u2/u4 aside
    }
  }
  return 0;
}
