#include "core/device.h"

#include <torch/cuda.h>

#include <stdexcept>

#include "core/memory_tracker.h"

namespace revup {

c10::Device select_device(const std::string& name) {
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(name);
  } catch (const c10::Error&) {
    throw std::invalid_argument("unknown device '" + name + "' (cpu, cuda, cuda:N)");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw std::runtime_error("device '" + name + "' asked for, but no CUDA device is available");
  }
  if (device.is_cpu()) MemoryTracker::install_cpu_tracking();
  return device;
}

}  // namespace revup
