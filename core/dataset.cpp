#include "core/dataset.h"

namespace revup {

Example collate(const Dataset& data, const std::vector<size_t>& indices) {
  std::vector<torch::Tensor> inputs, targets;
  inputs.reserve(indices.size());
  targets.reserve(indices.size());
  for (size_t i : indices) {
    auto e = data.get(i);
    inputs.push_back(std::move(e.input));
    targets.push_back(std::move(e.target));
  }
  return {torch::stack(inputs), torch::stack(targets)};
}

}  // namespace revup
