#pragma once
// What RevUp promises while it trains: every spectrally normalized conv at
// most c, every invertible block's branch Lip(g) < 1. Measured here with the
// true operator norms (core/operator_norm), independently of the power
// iteration that sets the divisors, at the divisors the next training step
// will use (each conv's current probe, before that step's iteration).
#include <torch/torch.h>

#include <string>
#include <vector>

namespace revup {

struct ConvLipschitz {
  std::string name;  // module path, e.g. "stages.0.blocks.3.convs.1"
  int64_t kernel_size = 0;
  double true_sigma = 0;       // ||W_normalized * gain||_2, any input size (upper bound)
  double estimated_sigma = 0;  // the same as the estimator sees it (sigma_bound at the probe)
  double coeff = 0;            // c
};

struct BlockLipschitz {
  std::string name;
  double bound = 0;  // product of its convs' true sigmas (Fixup's scale included)
  std::vector<ConvLipschitz> convs;
};

struct LipschitzAudit {
  std::vector<BlockLipschitz> blocks;
  double max_sigma_over_c = 0;  // over every conv
  double max_block_bound = 0;
  std::string worst_conv, worst_block;
};

// Every RevUp block of `net` (any depth of nesting). No power iteration, no
// grad: the network is left exactly as it was. `grid`: the frequency grid of
// the true norm (see conv_operator_norm).
LipschitzAudit audit_lipschitz(torch::nn::Module& net, int64_t grid = 128);

}  // namespace revup
