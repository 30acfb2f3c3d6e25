#pragma once
// Exact allocator-level memory accounting (never RSS).
//
// On CPU an allocator of our own is installed into LibTorch, so every tensor
// allocation is counted to the byte. On CUDA the caching allocator's own
// statistics are read (core/device_memory_stats.h). Both answer the same
// questions: how many bytes are live now, the peak since the last reset, reset
// the peak; and how much the allocator holds and how much the device has.
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>

#include "core/device_memory_stats.h"

namespace revup {

// Memory is reported in MiB (2^20 bytes) everywhere, as PyTorch's figures are.
inline constexpr double kBytesPerMiB = 1024.0 * 1024.0;
inline double to_mib(double bytes) { return bytes / kBytesPerMiB; }

class MemoryTracker {
 public:
  // Installs the counting CPU allocator (idempotent, thread-safe). Tensors made
  // before this call are not counted while alive, nor when freed.
  static void install_cpu_tracking();

  // Bytes currently allocated on `device` through LibTorch.
  static std::int64_t live_bytes(const c10::Device& device);
  // Peak of live_bytes since the last reset_peak on that device.
  static std::int64_t peak_bytes(const c10::Device& device);
  // Sets the peak to the current live value.
  static void reset_peak(const c10::Device& device);

  // The process's resident-set high-water mark (getrusage), in bytes. Not a
  // measure of the step (it counts everything the process ever touched); shown
  // beside the allocator's peak so that memory LibTorch's allocator does not see
  // (oneDNN scratch, BLAS buffers) cannot hide. 0 where the system has no answer.
  static std::int64_t process_rss_high_water_bytes();
  // Bytes the allocator holds: on CUDA the caching allocator's reserved
  // memory (live tensors plus its cache); on the CPU, where our allocator
  // keeps no cache, the live bytes.
  static std::int64_t reserved_bytes(const c10::Device& device);
  // The device's memory: physical memory for the CPU, the GPU's for CUDA.
  static std::int64_t total_bytes(const c10::Device& device);

  // Where CUDA statistics come from: LibTorch's caching allocator unless a
  // test puts a fake source here. Returns the previous source.
  static std::shared_ptr<DeviceMemoryStatsSource> set_cuda_stats_source(
      std::shared_ptr<DeviceMemoryStatsSource> source);
};

}  // namespace revup
