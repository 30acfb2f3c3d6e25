#pragma once
// How well each invertible block's input is rebuilt from its output by N
// fixed-point iterations (the paper's Figures 4 and 5). `bench invert` prints
// it; the GUI's reconstruction panel shows it beside the true activations.
#include <torch/torch.h>

#include <vector>

#include "models/network.h"

namespace revup {

struct BlockErrorCurve {
  int stage = 0, block = 0;
  // ||x_N - x|| / ||x|| for N = 1 .. max_iterations (index N - 1).
  std::vector<double> relative_errors;
};

// Runs `input` through the network's stages in eval mode (no graph) and, for
// every invertible block, rebuilds its input from its output.
std::vector<BlockErrorCurve> reconstruction_errors(Network& net, const torch::Tensor& input,
                                                   int max_iterations);

struct BlockReconstruction {
  int stage = 0, block = 0;
  torch::Tensor truth;          // the block's true input [N, C, H, W]
  torch::Tensor reconstructed;  // rebuilt from the block's output with `iterations`
  int iterations = 0;
  double relative_error = 0.0;
};

// The `index`-th invertible block (0-based, in forward order); throws
// std::out_of_range naming the count when there is no such block.
BlockReconstruction reconstruct_block(Network& net, const torch::Tensor& input, int index,
                                      int iterations);

int invertible_block_count(const Network& net);

// The paper's Figure 4: with the injective stem (zero-padded channels instead
// of a conv) the stem and the invertible blocks after it form one invertible
// map, so the input image itself can be rebuilt from their output.
struct InputReconstruction {
  torch::Tensor truth;          // the network's input [N, C, H, W]
  torch::Tensor reconstructed;  // rebuilt through `blocks` blocks, `iterations` each
  int blocks = 0;
  int iterations = 0;
  double relative_error = 0.0;
};

// Whether `reconstruct_input` can run: an injective stem followed by at least
// one invertible block.
bool reconstructs_input(const Network& net);

// Throws std::invalid_argument saying why when `reconstructs_input` is false.
InputReconstruction reconstruct_input(Network& net, const torch::Tensor& input, int iterations);

}  // namespace revup
