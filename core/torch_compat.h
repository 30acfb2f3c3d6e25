#pragma once
// The one place that knows the differences between Debian's LibTorch 1.13 and
// a current LibTorch 2.x. Everything else calls these helpers.
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/Allocator.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

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
// c10::CachingDeviceAllocator::DeviceStats. Both have allocated_bytes and
// reserved_bytes[AGGREGATE] (index 0) with current and peak.
inline auto cuda_device_stats(int device) {
  return c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
}
inline void cuda_reset_peak(int device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
}
// The device's memory in bytes (cudaGetDeviceProperties: the same in every
// CUDA version, and it does not change the current device).
inline std::int64_t cuda_total_memory(int device) {
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, device) != cudaSuccess) {
    throw std::runtime_error("cannot read the properties of CUDA device " + std::to_string(device));
  }
  return static_cast<std::int64_t>(properties.totalGlobalMem);
}
inline std::string cuda_device_name(int device) {
  cudaDeviceProp properties{};
  if (cudaGetDeviceProperties(&properties, device) != cudaSuccess) return "?";
  return properties.name;
}
#else
inline std::string cuda_device_name(int) { return ""; }
#endif

// What the LibTorch in use was built with: "13.0" and "9.19.0" from its CUDA
// hooks (present in 1.13 and 2.x; a CPU-only LibTorch has no CUDA runtime and
// gets ""). These are the versions LibTorch was compiled against, not the
// driver's.
inline std::string cuda_built_version() {
  const auto& hooks = at::detail::getCUDAHooks();
  if (!hooks.hasCUDART()) return "";
  const long v = hooks.versionCUDART();  // 13000 for 13.0
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}
inline std::string cudnn_built_version() {
  const auto& hooks = at::detail::getCUDAHooks();
  if (!hooks.hasCUDART() || !hooks.hasCuDNN()) return "";
  const long v = hooks.versionCuDNN();  // 91900 for 9.19.0; cuDNN 8 had major*1000
  const long major_unit = v >= 90000 ? 10000 : 1000;
  return std::to_string(v / major_unit) + "." + std::to_string(v % major_unit / 100) + "." +
         std::to_string(v % 100);
}

// 2.x moved torch::nn::init's FanModeType/NonlinearityType to std::variant-based
// enums with the same spelling; kaiming_normal_ keeps its signature. Wrapping it
// keeps call sites identical.
inline void kaiming_normal_fan_out(torch::Tensor& w) {
  torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU);
}

// Gradients of conv2d or conv3d (input, weight, bias; by the weight's
// dimensionality) for grad_output, without building a graph.
// at::convolution_backward exists in 1.13 and 2.x with this signature.
inline std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv_backward(
    const torch::Tensor& grad_output, const torch::Tensor& input, const torch::Tensor& weight,
    int64_t stride, int64_t padding, std::array<bool, 3> wanted = {true, true, true}) {
  const std::vector<int64_t> bias_sizes = {weight.size(0)};
  const auto axes = static_cast<size_t>(weight.dim() - 2);
  const std::vector<int64_t> strides(axes, stride), paddings(axes, padding), ones(axes, 1),
      zeros(axes, 0);
  return at::convolution_backward(grad_output, input, weight, bias_sizes, strides, paddings, ones,
                                  /*transposed=*/false, zeros, /*groups=*/1, wanted);
}

inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace revup::compat
