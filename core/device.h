#pragma once
// The device training and benchmarks run on, ready to be measured: on the CPU
// the tracking allocator is installed (core/memory_tracker.h), so memory
// events and peaks are exact allocator bytes; CUDA has its own statistics.
#include <c10/core/Device.h>

#include <string>

namespace revup {

// "cpu", "cuda" or "cuda:N". Throws std::invalid_argument for an unknown
// name, std::runtime_error when CUDA is asked for but not available.
c10::Device select_device(const std::string& name);

}  // namespace revup
