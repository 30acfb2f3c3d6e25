#include "core/device_memory_stats.h"

#include <stdexcept>

#include "core/torch_compat.h"

namespace revup {
namespace {

#if defined(REVUP_HAVE_CUDA)
class CudaCachingAllocatorStats final : public DeviceMemoryStatsSource {
 public:
  DeviceMemoryStats read(int device) const override {
    const auto s = compat::cuda_device_stats(device);
    // Index 0 is StatType::AGGREGATE (all pools) in 1.13 and 2.x.
    return {s.allocated_bytes[0].current, s.allocated_bytes[0].peak, s.reserved_bytes[0].current,
            s.reserved_bytes[0].peak};
  }
  void reset_peak(int device) override { compat::cuda_reset_peak(device); }
  std::int64_t total_bytes(int device) const override { return compat::cuda_total_memory(device); }
};
#else
class NoCudaStats final : public DeviceMemoryStatsSource {
 public:
  DeviceMemoryStats read(int) const override { fail(); }
  void reset_peak(int) override { fail(); }
  std::int64_t total_bytes(int) const override { fail(); }

 private:
  [[noreturn]] static void fail() {
    throw std::runtime_error(
        "memory tracking on CUDA needs a CUDA build of RevUp Studio (this one was built "
        "against a CPU-only LibTorch)");
  }
};
#endif

}  // namespace

std::shared_ptr<DeviceMemoryStatsSource> cuda_caching_allocator_stats() {
#if defined(REVUP_HAVE_CUDA)
  return std::make_shared<CudaCachingAllocatorStats>();
#else
  return std::make_shared<NoCudaStats>();
#endif
}

}  // namespace revup
