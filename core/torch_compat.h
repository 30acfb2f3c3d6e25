#pragma once
// The one place that knows the differences between Debian's LibTorch 1.13 and
// a current LibTorch 2.x. Everything else calls these helpers.
#include <torch/torch.h>

#include <cstdint>

#if defined(REVUP_HAVE_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace revup::compat {

inline bool cuda_stats_available() {
#if defined(REVUP_HAVE_CUDA)
  return true;
#else
  return false;
#endif
}

#if defined(REVUP_HAVE_CUDA)
// 1.13 returns c10::cuda::CUDACachingAllocator::DeviceStats; 2.x returns
// c10::CachingDeviceAllocator::DeviceStats. Both have allocated_bytes[AGGREGATE].
inline auto cuda_device_stats(int device) {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
}
inline std::int64_t cuda_allocated_current(int device) {
  return cuda_device_stats(device).allocated_bytes[0].current;
}
inline std::int64_t cuda_allocated_peak(int device) {
  return cuda_device_stats(device).allocated_bytes[0].peak;
}
inline void cuda_reset_peak(int device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
}
#endif

// 2.x moved torch::nn::init's FanModeType/NonlinearityType to std::variant-based
// enums with the same spelling; kaiming_normal_ keeps its signature. Wrapping it
// keeps call sites identical.
inline void kaiming_normal_fan_out(torch::Tensor& w) {
  torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU);
}

inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace revup::compat
