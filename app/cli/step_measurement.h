#pragma once
// Benchmark helpers: random batches and medians (the measured step itself is
// core/step_measurement.h, the networks' steps models/step_measurements.h).
#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "models/step_measurements.h"

namespace revup::cli {

// A random input and label batch of the given NCHW shape on `device`.
std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device);

double median(std::vector<double> values);

}  // namespace revup::cli
