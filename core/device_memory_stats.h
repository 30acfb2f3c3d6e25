#pragma once
// Where MemoryTracker reads a GPU's memory from: the CUDA caching allocator's
// own statistics (allocated and reserved bytes, their peaks, a peak reset),
// behind an interface so the tracker's CUDA path (which device, which counter,
// what a reset does) is tested on a machine without a GPU through a fake
// source, and read from LibTorch for real on one (tests/gpu/run.sh).
#include <cstdint>
#include <memory>

namespace revup {

struct DeviceMemoryStats {
  std::int64_t allocated = 0;       // bytes in live tensors
  std::int64_t allocated_peak = 0;  // highest `allocated` since the last reset
  std::int64_t reserved = 0;        // bytes the caching allocator holds from the driver
  std::int64_t reserved_peak = 0;
};

class DeviceMemoryStatsSource {
 public:
  virtual ~DeviceMemoryStatsSource() = default;
  virtual DeviceMemoryStats read(int device) const = 0;
  // Peaks back to the current values.
  virtual void reset_peak(int device) = 0;
  // The device's memory, for "how much room a step leaves".
  virtual std::int64_t total_bytes(int device) const = 0;
};

// LibTorch's CUDA caching allocator in a CUDA build; in a CPU-only build a
// source whose every call throws "needs a CUDA build".
std::shared_ptr<DeviceMemoryStatsSource> cuda_caching_allocator_stats();

}  // namespace revup
