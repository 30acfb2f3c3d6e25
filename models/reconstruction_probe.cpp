#include "models/reconstruction_probe.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/fixed_point.h"

namespace revup {
namespace {

double relative_error(const torch::Tensor& estimate, const torch::Tensor& truth) {
  return (estimate - truth).norm().item<double>() / std::max(1e-30, truth.norm().item<double>());
}

// Calls `each(block, its input, its output, parameters)` for every block in
// forward order, with the network in eval mode (restored afterwards).
template <typename Each>
void walk_blocks(Network& net, const torch::Tensor& input, Each each) {
  const bool was_training = net->is_training();
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor h = input;
  for (const auto& stage : net->stages()) {
    for (const auto& lb : stage) {
      const auto p = lb.block->step_parameters();
      const auto out = lb.block->apply(h, p);
      if (!each(lb, h, out, p)) {
        net->train(was_training);
        return;
      }
      h = out;
    }
  }
  net->train(was_training);
}

}  // namespace

std::vector<BlockErrorCurve> reconstruction_errors(Network& net, const torch::Tensor& input,
                                                   int max_iterations) {
  std::vector<BlockErrorCurve> curves;
  walk_blocks(net, input, [&](const LabeledBlock& lb, const auto& x, const auto& y, const auto& p) {
    if (!lb.block->invertible()) return true;
    BlockErrorCurve curve{lb.label.stage, lb.label.block, {}};
    fixed_point_trace(
        y, [&](const torch::Tensor& v) { return lb.block->branch(v, p); }, max_iterations,
        [&](int, const torch::Tensor& xn) {
          curve.relative_errors.push_back(relative_error(xn, x));
        });
    curves.push_back(std::move(curve));
    return true;
  });
  return curves;
}

BlockReconstruction reconstruct_block(Network& net, const torch::Tensor& input, int index,
                                      int iterations) {
  const int count = invertible_block_count(net);
  if (index < 0 || index >= count) {
    throw std::out_of_range("block " + std::to_string(index) + " does not exist: the network has " +
                            std::to_string(count) + " invertible blocks");
  }
  BlockReconstruction result;
  int seen = 0;
  walk_blocks(net, input, [&](const LabeledBlock& lb, const auto& x, const auto& y, const auto& p) {
    if (!lb.block->invertible() || seen++ != index) return true;
    FixedPointOptions options;
    options.iterations = iterations;
    const auto rebuilt = fixed_point_inverse(
        y, [&](const torch::Tensor& v) { return lb.block->branch(v, p); }, options);
    result = {lb.label.stage, lb.label.block, x,
              rebuilt.x,      iterations,     relative_error(rebuilt.x, x)};
    return false;
  });
  return result;
}

namespace {

// The invertible blocks straight after the stem, in forward order.
std::vector<LabeledBlock> leading_invertible_blocks(const Network& net) {
  std::vector<LabeledBlock> run;
  const auto& stages = net->stages();
  for (size_t s = 1; s < stages.size(); ++s) {
    for (const auto& lb : stages[s]) {
      if (!lb.block->invertible()) return run;
      run.push_back(lb);
    }
  }
  return run;
}

}  // namespace

bool reconstructs_input(const Network& net) {
  return net->config().injective_stem && !leading_invertible_blocks(net).empty();
}

InputReconstruction reconstruct_input(Network& net, const torch::Tensor& input, int iterations) {
  if (!net->config().injective_stem) {
    throw std::invalid_argument(
        "the input image can only be rebuilt by a network with the injective stem (its first "
        "layer is a convolution, which cannot be inverted)");
  }
  const auto run = leading_invertible_blocks(net);
  if (run.empty()) {
    throw std::invalid_argument(
        "the input image cannot be rebuilt: no invertible block follows the injective stem");
  }
  const bool was_training = net->is_training();
  net->eval();
  torch::NoGradGuard no_grad;
  const auto& stem = net->stages().front().front().block;
  torch::Tensor h = stem->apply(input, stem->step_parameters());
  std::vector<TensorVector> parameters;
  for (const auto& lb : run) {
    parameters.push_back(lb.block->step_parameters());
    h = lb.block->apply(h, parameters.back());
  }
  FixedPointOptions options;
  options.iterations = iterations;
  for (size_t i = run.size(); i-- > 0;) {
    const auto& block = run[i].block;
    h = fixed_point_inverse(
            h, [&](const torch::Tensor& v) { return block->branch(v, parameters[i]); }, options)
            .x;
  }
  net->train(was_training);
  // The stem only appended zero channels: the image is the first C of them.
  const auto rebuilt = h.narrow(1, 0, input.size(1));
  return {input, rebuilt, static_cast<int>(run.size()), iterations, relative_error(rebuilt, input)};
}

int invertible_block_count(const Network& net) {
  int count = 0;
  for (const auto& stage : net->stages()) {
    for (const auto& lb : stage) count += lb.block->invertible() ? 1 : 0;
  }
  return count;
}

}  // namespace revup
