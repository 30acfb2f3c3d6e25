#include "core/device.h"

#include <torch/cuda.h>

#include <stdexcept>

#include "core/memory_tracker.h"
#include "core/torch_compat.h"

namespace revup {

c10::Device select_device(const std::string& name) {
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    throw std::invalid_argument("unknown device '" + name + "' (cpu, cuda, cuda:N)");
  }
  if (device.is_cuda()) {
    const std::string cuda = compat::cuda_built_version();
    if (cuda.empty()) {
      throw DeviceUnavailable("device '" + name +
                              "' asked for, but no CUDA device is available: this build's "
                              "LibTorch " +
                              compat::torch_version() +
                              " has no CUDA (build against the PyTorch wheel's: "
                              "REVUP_TORCH=wheel ./revup.sh build)");
    }
    if (!torch::cuda::is_available()) {
      throw DeviceUnavailable("device '" + name +
                              "' asked for, but no CUDA device is available (LibTorch " +
                              compat::torch_version() + ", built for CUDA " + cuda +
                              ", finds no GPU or no NVIDIA driver)");
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (device.has_index() && device.index() >= count) {
      throw DeviceUnavailable("device '" + name + "' asked for, but only " + std::to_string(count) +
                              " CUDA device(s) are present");
    }
  }
  if (device.is_cpu()) MemoryTracker::install_cpu_tracking();
  return device;
}

}  // namespace revup
