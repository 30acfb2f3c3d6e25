#pragma once
// Moving weights between networks of the same family, and moving them away
// from Fixup's init (where g == 0, so inverse and gradient checks prove nothing).
#include <torch/torch.h>

namespace revup {

// Copies every parameter and buffer of `from` into the same-named one of `to`.
void copy_state(const torch::nn::Module& from, torch::nn::Module& to);

// Adds N(0, weight_std) to tensors and N(0, scalar_std) to scalars (Fixup's biases, scales).
void perturb_parameters(torch::nn::Module& module, double weight_std, double scalar_std);

}  // namespace revup
