#pragma once
// The one place that knows the differences between Debian's LibTorch 1.13 and
// a current LibTorch 2.x. Everything else calls these helpers.
#include <c10/core/Allocator.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#if defined(REVUP_HAVE_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#define REVUP_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||        \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace revup::compat {

// c10::Allocator: 2.3 made allocate() non-const and added the pure virtual
// copy_data(). An allocator derives from this and implements allocate_block().
struct Allocator : c10::Allocator {
  virtual c10::DataPtr allocate_block(size_t n) const = 0;
#if REVUP_TORCH_AT_LEAST(2, 3)
  c10::DataPtr allocate(size_t n) override { return allocate_block(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t n) const override { return allocate_block(n); }
#endif
};

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
#else
[[noreturn]] inline void no_cuda_stats() {
  throw std::runtime_error("memory tracking on CUDA needs a CUDA build of RevUp Studio");
}
inline std::int64_t cuda_allocated_current(int) { no_cuda_stats(); }
inline std::int64_t cuda_allocated_peak(int) { no_cuda_stats(); }
inline void cuda_reset_peak(int) { no_cuda_stats(); }
#endif

// 2.x moved torch::nn::init's FanModeType/NonlinearityType to std::variant-based
// enums with the same spelling; kaiming_normal_ keeps its signature. Wrapping it
// keeps call sites identical.
inline void kaiming_normal_fan_out(torch::Tensor& w) {
  torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU);
}

// Gradients of conv2d (input, weight, bias) for grad_output, without building a
// graph. at::convolution_backward exists in 1.13 and 2.x with this signature.
inline std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv2d_backward(
    const torch::Tensor& grad_output, const torch::Tensor& input, const torch::Tensor& weight,
    int64_t stride, int64_t padding, std::array<bool, 3> wanted = {true, true, true}) {
  const std::vector<int64_t> bias_sizes = {weight.size(0)};
  return at::convolution_backward(grad_output, input, weight, bias_sizes, {stride, stride},
                                  {padding, padding}, {1, 1}, /*transposed=*/false, {0, 0},
                                  /*groups=*/1, wanted);
}

inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace revup::compat
