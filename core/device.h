#pragma once
// The device training and benchmarks run on, ready to be measured: on the CPU
// the tracking allocator is installed (core/memory_tracker.h), so memory
// events and peaks are exact allocator bytes; CUDA has its own statistics.
#include <c10/core/Device.h>

#include <stdexcept>
#include <string>

namespace revup {

// The device asked for exists as a name but not on this machine (or not in
// this build): a CUDA device without a GPU, or with a CPU-only LibTorch, or
// cuda:N beyond the GPUs present. The front ends say why and exit with 2.
struct DeviceUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "cpu", "cuda" or "cuda:N". Throws std::invalid_argument for an unknown
// name, DeviceUnavailable when CUDA is asked for but not usable.
c10::Device select_device(const std::string& name);

}  // namespace revup
