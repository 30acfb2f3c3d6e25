// io/idx_dataset: read_idx on any bytes, as a plain file and as the gzip
// stream gzopen detects by its magic (the corpus holds both). The header's
// dimensions must not drive an allocation larger than the data that arrives.
#include "io/idx_dataset.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  fuzz::init_torch();
  const auto path = fuzz::write_input("train-images-idx3-ubyte.gz", data, size);
  torch::Tensor t;
  if (!fuzz::expect_clear_error(path, [&] { t = read_idx(path); })) return 0;
  if (!t.defined() || t.dim() < 1 || t.dim() > 4 || t.scalar_type() != torch::kUInt8) {
    fuzz::fail("read_idx returned a bad tensor");
  }
  return 0;
}
