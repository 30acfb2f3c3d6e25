#include <torch/torch.h>

#include <stdexcept>

#include "app/cli/commands.h"
#include "core/atomic_file.h"
#include "core/memory_tracker.h"

namespace revup::cli {

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

void write_json(const std::string& path, const nlohmann::json& j) {
  write_text_atomically(path, j.dump(2) + "\n");
}

}  // namespace revup::cli
