#pragma once
// What a checkpoint may load into a module. LibTorch's Module::load swaps in
// each parameter and buffer the archive holds whatever its shape or type, so
// a checkpoint of another model (another width, another class count) loads
// and fails later, in forward, with an error that names no file. The loaders
// take the module's shapes before and compare after.
#include <torch/torch.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace revup {

using TensorShapes = std::map<std::string, std::pair<std::vector<int64_t>, c10::ScalarType>>;

inline TensorShapes tensor_shapes(const torch::nn::Module& module) {
  TensorShapes shapes;
  for (const auto& p : module.named_parameters()) {
    shapes[p.key()] = {p.value().sizes().vec(), p.value().scalar_type()};
  }
  for (const auto& b : module.named_buffers()) {
    shapes[b.key()] = {b.value().sizes().vec(), b.value().scalar_type()};
  }
  return shapes;
}

// Throws std::runtime_error naming `path` and the first tensor that differs.
inline void check_loaded_shapes(const TensorShapes& before, const torch::nn::Module& module,
                                const std::string& path) {
  for (const auto& [name, now] : tensor_shapes(module)) {
    const auto was = before.find(name);
    if (was == before.end() || was->second == now) continue;
    throw std::runtime_error(path + ": checkpoint of another model ('" + name + "' is " +
                             c10::str(c10::IntArrayRef(now.first)) + " " +
                             c10::toString(now.second) + ", the model's is " +
                             c10::str(c10::IntArrayRef(was->second.first)) + " " +
                             c10::toString(was->second.second) + ")");
  }
}

}  // namespace revup
