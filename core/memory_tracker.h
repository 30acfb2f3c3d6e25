#pragma once
// Exact allocator-level memory accounting (never RSS).
//
// On CPU an allocator of our own is installed into LibTorch, so every tensor
// allocation is counted to the byte. On CUDA the caching allocator's own
// statistics are read. Both answer the same three questions: how many bytes are
// live now, the peak since the last reset, and reset the peak.
#include <c10/core/Device.h>

#include <cstdint>

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
};

}  // namespace revup
