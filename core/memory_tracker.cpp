#include "core/memory_tracker.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/resource.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>

#include "core/torch_compat.h"

namespace revup {
namespace {

// The size lives in a header in front of the block, so the DataPtr's context can
// equal its data pointer: oneDNN's raw_allocate() asserts exactly that.
constexpr std::size_t kAlignment = 64;
constexpr std::size_t kHeader = kAlignment;

std::atomic<std::int64_t> g_live{0};
std::atomic<std::int64_t> g_peak{0};

void raise_peak(std::int64_t live) {
  std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (live > peak && !g_peak.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
}

void counting_free(void* data) {
  if (data == nullptr) return;
  char* block = static_cast<char*>(data) - kHeader;
  const auto size = *reinterpret_cast<std::int64_t*>(block);
  g_live.fetch_sub(size, std::memory_order_relaxed);
  std::free(block);
}

struct CountingCpuAllocator final : compat::Allocator {
  c10::DataPtr allocate_block(size_t n) const override {
    void* block = nullptr;
    if (posix_memalign(&block, kAlignment, n + kHeader) != 0 || block == nullptr) {
      throw std::bad_alloc();
    }
    *static_cast<std::int64_t*>(block) = static_cast<std::int64_t>(n);
    raise_peak(g_live.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed) +
               static_cast<std::int64_t>(n));
    void* data = static_cast<char*>(block) + kHeader;
    return {data, data, &counting_free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &counting_free; }
};

// A training step frees and reallocates the same activations every step. By
// default glibc maps each block above 128 KiB fresh from the kernel and unmaps
// it on free, so every step pays a page fault per 4 KiB of every activation:
// a third of a small network's step time. Serve blocks up to glibc's cap
// (32 MiB) from the heap and keep the heap's top instead of trimming it.
void keep_freed_blocks_in_heap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

CountingCpuAllocator g_allocator;
std::once_flag g_install_once;

int cuda_index(const c10::Device& device) { return device.has_index() ? device.index() : 0; }

// Read and replaced through std::atomic_load/atomic_store (C++17's atomic
// shared_ptr access), so a test's swap cannot race a reader.
std::shared_ptr<DeviceMemoryStatsSource> g_cuda_stats = cuda_caching_allocator_stats();

void require_cpu_or_cuda(const c10::Device& device) {
  if (!device.is_cpu() && !device.is_cuda()) {
    throw std::invalid_argument("memory tracking knows the CPU and CUDA devices, not " +
                                device.str());
  }
}

DeviceMemoryStats cuda_stats(const c10::Device& device) {
  return std::atomic_load(&g_cuda_stats)->read(cuda_index(device));
}

}  // namespace

void MemoryTracker::install_cpu_tracking() {
  std::call_once(g_install_once, [] {
    keep_freed_blocks_in_heap();
    // Priority above the default (0) so LibTorch's own registration cannot win.
    c10::SetCPUAllocator(&g_allocator, /*priority=*/100);
  });
}

std::int64_t MemoryTracker::live_bytes(const c10::Device& device) {
  if (device.is_cpu()) return g_live.load(std::memory_order_relaxed);
  require_cpu_or_cuda(device);
  return cuda_stats(device).allocated;
}

std::int64_t MemoryTracker::peak_bytes(const c10::Device& device) {
  if (device.is_cpu()) return g_peak.load(std::memory_order_relaxed);
  require_cpu_or_cuda(device);
  return cuda_stats(device).allocated_peak;
}

void MemoryTracker::reset_peak(const c10::Device& device) {
  if (device.is_cpu()) {
    g_peak.store(g_live.load(std::memory_order_relaxed), std::memory_order_relaxed);
  } else {
    require_cpu_or_cuda(device);
    std::atomic_load(&g_cuda_stats)->reset_peak(cuda_index(device));
  }
}

std::int64_t MemoryTracker::process_rss_high_water_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

std::int64_t MemoryTracker::reserved_bytes(const c10::Device& device) {
  if (device.is_cpu()) return g_live.load(std::memory_order_relaxed);
  require_cpu_or_cuda(device);
  return cuda_stats(device).reserved;
}

std::int64_t MemoryTracker::total_bytes(const c10::Device& device) {
  if (device.is_cpu()) {
    const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    return pages > 0 && page_size > 0 ? std::int64_t{pages} * page_size : 0;
  }
  require_cpu_or_cuda(device);
  return std::atomic_load(&g_cuda_stats)->total_bytes(cuda_index(device));
}

std::shared_ptr<DeviceMemoryStatsSource> MemoryTracker::set_cuda_stats_source(
    std::shared_ptr<DeviceMemoryStatsSource> source) {
  if (!source) source = cuda_caching_allocator_stats();
  return std::atomic_exchange(&g_cuda_stats, std::move(source));
}

}  // namespace revup
