#include "app/cli/step_measurement.h"

#include <algorithm>

namespace revup::cli {

std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device) {
  auto x = torch::randn(shape, torch::TensorOptions().device(device));
  auto y = torch::randint(0, classes, {shape[0]},
                          torch::TensorOptions().device(device).dtype(torch::kLong));
  return {x, y};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace revup::cli
