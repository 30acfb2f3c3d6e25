#pragma once
// Reading a checkpoint into a module, the one way Trainer::load_checkpoint
// (--resume) and RunFolder::load_model (predict, evaluate, export) do it:
// - LibTorch's reader throws c10::Error, torch::jit::ErrorReport (garbled
//   TorchScript in the archive) and more; every one becomes our error naming
//   the file.
// - LibTorch's Module::load swaps in each parameter and buffer the archive
//   holds whatever its shape or type, so a checkpoint of another model
//   (another width, another class count) would load and fail later, in
//   forward, with an error that names no file: the shapes are compared.
#include <torch/torch.h>

#include "core/checkpoint_archive_check.h"

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

// Runs `read` (LibTorch reading an archive) and rethrows whatever it throws
// as std::runtime_error "PATH: PROBLEM (LibTorch's message)".
template <typename Read>
void reading_checkpoint(const std::string& path, const std::string& problem, Read&& read) {
  try {
    read();
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": " + problem + " (" + e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + problem + " (" + e.what() + ")");
  }
}

// Opens the checkpoint at `path` into `archive`, after checking that the
// TorchScript source it carries is only what OutputArchive writes and that
// its pickles' lengths fit (core/checkpoint_archive_check.h: LibTorch can
// crash on the one and allocate gigabytes for the other).
inline void open_checkpoint(torch::serialize::InputArchive& archive, const std::string& path,
                            const std::string& problem) {
  std::string garbled;
  reading_checkpoint(path, problem, [&] { garbled = archive_problem(path); });
  if (!garbled.empty()) throw std::runtime_error(path + ": " + problem + " (" + garbled + ")");
  reading_checkpoint(path, problem, [&] { archive.load_from(path); });
}

// Loads `archive` into `module`; a tensor of another shape or type than the
// module's is refused, naming `path`.
inline void load_module_checked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                                const std::string& path, const std::string& problem) {
  const auto shapes = tensor_shapes(module);
  reading_checkpoint(path, problem, [&] { module.load(archive); });
  check_loaded_shapes(shapes, module, path);
}

}  // namespace revup
