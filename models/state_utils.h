#pragma once
// Moving weights between networks of the same family, and moving them away
// from Fixup's init (where g == 0, so inverse and gradient checks prove nothing).
#include <torch/torch.h>

#include <vector>

namespace revup {

// Copies every parameter and buffer of `from` into the same-named one of `to`.
void copy_state(const torch::nn::Module& from, torch::nn::Module& to);

// Fixup trains every bias and scale at lr/10 (its reference implementation's
// optimizer groups): a module's 0-d parameters and its layers' biases
// (BatchNorm's aside); and everything else at the full rate.
std::vector<torch::Tensor> scalar_parameters(const torch::nn::Module& module);
std::vector<torch::Tensor> weight_parameters(const torch::nn::Module& module);

// Adds N(0, weight_std) to tensors and N(0, scalar_std) to scalars (Fixup's biases, scales).
void perturb_parameters(torch::nn::Module& module, double weight_std, double scalar_std);

// Power iteration on every spectrally normalized conv until its sigma bound
// moves by less than `tolerance` (relative) in one iteration, at most
// `max_iterations`: weights moved by hand (perturbed, loaded) are then
// normalized as a trained network's are, not by vectors left from other
// weights. Returns the most iterations any conv took.
int converge_spectral_norms(torch::nn::Module& module, double tolerance = 1e-7,
                            int max_iterations = 2000);

}  // namespace revup
