// MemSave must give the gradients of plain autograd through the same blocks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../test_util.h"
#include "core/sequence.h"
#include "models/branch.h"
#include "models/network.h"
#include "models/revup_block.h"

namespace revup {
namespace {

struct Gradients {
  torch::Tensor input;
  std::map<std::string, torch::Tensor> params;
};

Gradients gradients_of(Network& net, const torch::Tensor& x, const torch::Tensor& target) {
  net->zero_grad();
  auto input = x.clone().requires_grad_(true);
  torch::nn::functional::cross_entropy(net->forward(input), target).backward();
  Gradients g;
  g.input = input.grad().clone();
  for (const auto& p : net->named_parameters()) g.params[p.key()] = p.value().grad().clone();
  return g;
}

torch::Tensor flat(const Gradients& g) {
  std::vector<torch::Tensor> parts;
  for (const auto& [name, grad] : g.params) parts.push_back(grad.flatten());
  return torch::cat(parts);
}

// Relative to the whole gradient: a parameter whose true gradient is ~0 (Fixup's
// scale once normalization is active) would make a per-tensor ratio meaningless.
void expect_same_gradients(const Gradients& a, const Gradients& b, double tolerance) {
  EXPECT_LT(testing::relative_error(a.input, b.input), tolerance) << "input gradient";
  ASSERT_EQ(a.params.size(), b.params.size());
  const double total = flat(b).norm().item<double>();
  ASSERT_GT(total, 0.0);
  EXPECT_LT(testing::relative_error(flat(a), flat(b)), tolerance) << "all parameters";
  for (const auto& [name, grad] : b.params) {
    ASSERT_TRUE(a.params.count(name)) << name;
    EXPECT_LT((a.params.at(name) - grad).norm().item<double>() / total, tolerance) << name;
  }
}

// The network `config` describes (perturbed away from init) and a twin of
// architecture `other` with the very same weights, both in `dtype`.
std::pair<Network, Network> twins(ModelConfig config, const std::string& other,
                                  torch::Dtype dtype = torch::kFloat64) {
  config.sn.power_iterations = 0;  // both networks must use identical weights
  Network reference(config);
  testing::perturb(*reference);
  reference->to(dtype);
  config.arch = other;
  Network twin(config);
  twin->to(dtype);
  copy_state(*reference, *twin);
  return {reference, twin};
}

// A tolerance-driven inverse (1e-13): MemSave's rebuilt activations equal the
// true ones to ~1e-12 and its gradients autograd's to well below 1e-8.
ModelConfig exact_inverse(ModelConfig config) {
  config.inverse.tolerance = 1e-13;
  config.inverse.max_iterations = 500;
  return config;
}

class MemSaveGradients : public ::testing::TestWithParam<int> {};

TEST_P(MemSaveGradients, EqualPlainAutogradOnPerturbedWeights) {
  torch::manual_seed(20);
  auto [plain, memsave] =
      twins(exact_inverse(testing::small_cifar("revup", GetParam())), "revup-memsave");
  const auto x = torch::randn({3, 3, 16, 16}, torch::kFloat64);
  const auto target = torch::tensor({0, 3, 1});
  const auto expected = gradients_of(plain, x, target);
  const auto actual = gradients_of(memsave, x, target);
  expect_same_gradients(actual, expected, 1e-8);
  // And the weights really moved away from init: gradients are not trivially zero.
  EXPECT_GT(expected.params.at("stage1_block0.conv2.weight").abs().sum().item<double>(), 1e-6);
  EXPECT_GT(last_inverse_stats().max_iterations, 1);
}

INSTANTIATE_TEST_SUITE_P(Depths, MemSaveGradients, ::testing::Values(8, 20));

// A narrow ImageNet-style RevUp-50: bottleneck blocks throughout.
ModelConfig small_bottlenecks() {
  ModelConfig config;
  config.arch = "revup";
  config.depth = 50;
  config.widths = {4, 4, 8, 8};
  config.num_classes = 3;
  return config;
}

// ImageNet-style bottlenecks take MemSave's hand-written 1x1 path.
TEST(MemSaveGradients, BottleneckBlocksEqualPlainAutograd) {
  torch::manual_seed(23);
  auto [plain, memsave] = twins(exact_inverse(small_bottlenecks()), "revup-memsave");
  const auto x = torch::randn({2, 3, 40, 40}, torch::kFloat64);
  const auto target = torch::tensor({2, 0});
  const auto expected = gradients_of(plain, x, target);
  expect_same_gradients(gradients_of(memsave, x, target), expected, 1e-8);
  EXPECT_GT(expected.params.at("stage1_block1.conv3.weight").abs().sum().item<double>(), 1e-8);
}

// MemSave reads relu(x) band by band for 1x1 convs; bands of two rows here
// (at 4K a band is 32 MiB), the last one shorter, and two images.
TEST(ReluBands, EqualTheWholeTensorComputation) {
  torch::manual_seed(5);
  const auto x = torch::randn({2, 6, 9, 5}, torch::kFloat64);
  const auto w = torch::randn({4, 6, 1, 1}, torch::kFloat64);
  const auto b = torch::randn({4}, torch::kFloat64);
  const auto g = torch::randn({2, 4, 9, 5}, torch::kFloat64);
  const std::int64_t two_rows = 2 * x.nbytes() / x.size(2);
  const auto expected = torch::conv2d(torch::relu(x), w, b);
  EXPECT_LT(testing::relative_error(conv1x1_of_relu(x, w, b, two_rows), expected), 1e-14);
  EXPECT_LT(testing::relative_error(conv1x1_weight_grad_of_relu(g, x, two_rows),
                                    conv1x1_weight_grad(g, torch::relu(x))),
            1e-14);
}

// The band-wise pieces of MemSave's backward for a bottleneck: the last 1x1
// conv subtracted from the block's output band by band (x rebuilt into y's
// storage, x being y itself on the first iteration), and the first 1x1 conv's
// input gradient added into grad_y band by band.
TEST(ReluBands, SubtractTheBranchAndAddTheInputGradientInPlace) {
  torch::manual_seed(6);
  torch::NoGradGuard no_grad;
  RevUpBlock block(BlockKind::kBottleneck, 8, /*total_blocks=*/3);
  testing::perturb(*block, 0.5, 0.2);
  block->eval();
  block->to(torch::kFloat64);
  const auto q = block->branch_parameters(block->step_parameters());
  const auto y = torch::randn({2, 8, 9, 5}, torch::kFloat64);
  const std::int64_t two_rows = 2 * y.nbytes() / y.size(2);
  const auto branch = fixup_branch_of_relu(block->shape, y, q);
  auto out = y.clone();
  const double norm = subtract_fixup_branch_of_relu(block->shape, out, out, q, two_rows);
  EXPECT_LT(testing::relative_error(out, y - branch), 1e-14);
  EXPECT_NEAR(norm, branch.norm().item<double>(), 1e-12 * norm);

  const auto w = torch::randn({4, 8, 1, 1}, torch::kFloat64);
  const auto g = torch::randn({2, 4, 9, 5}, torch::kFloat64);
  auto target = torch::randn({2, 8, 9, 5}, torch::kFloat64);
  const auto expected = target + torch::threshold_backward(conv1x1_input_grad(g, w), y, 0);
  add_conv1x1_input_grad_through_relu_(target, g, w, y, two_rows);
  EXPECT_LT(testing::relative_error(target, expected), 1e-14);
}

// With a fixed iteration count MemSave rebuilds x into y's storage and adds
// dL/dx into grad_y's: exact with enough iterations (Lip(g) < 0.9^3).
TEST(MemSaveGradients, RebuiltInPlaceEqualPlainAutograd) {
  torch::manual_seed(24);
  auto config = small_bottlenecks();
  config.inverse.iterations = 150;
  auto [plain, memsave] = twins(config, "revup-memsave");
  const auto x = torch::randn({2, 3, 40, 40}, torch::kFloat64);
  const auto target = torch::tensor({1, 2});
  expect_same_gradients(gradients_of(memsave, x, target), gradients_of(plain, x, target), 1e-8);
  EXPECT_EQ(last_inverse_stats().max_iterations, 150);
}

TEST(MemSaveGradients, OneFixedPointIterationIsCloseButNotExact) {
  torch::manual_seed(21);
  // N = 1, as the paper trains.
  auto [plain, memsave] =
      twins(testing::small_cifar("revup", 14), "revup-memsave", torch::kFloat32);
  const auto x = torch::randn({2, 3, 16, 16});
  const auto target = torch::tensor({1, 2});
  const auto expected = gradients_of(plain, x, target);
  const auto actual = gradients_of(memsave, x, target);
  const double error = testing::relative_error(actual.input, expected.input);
  EXPECT_GT(error, 1e-6) << "N = 1 cannot be exact on perturbed weights";
  EXPECT_LT(error, 0.5);
}

TEST(CheckpointGradients, EqualPlainAutograd) {
  torch::manual_seed(22);
  auto [plain, ckpt] = twins(testing::small_cifar("resnet-fixup", 14), "resnet-fixup-ckpt");
  const auto x = torch::randn({2, 3, 16, 16}, torch::kFloat64);
  const auto target = torch::tensor({4, 0});
  expect_same_gradients(gradients_of(ckpt, x, target), gradients_of(plain, x, target), 1e-10);
}

TEST(MemSave, SecondBackwardThroughTheSameGraphIsAClearError) {
  auto config = testing::small_cifar("revup-memsave", 8);
  Network net(config);
  const auto loss = net->forward(torch::randn({1, 3, 8, 8})).sum();
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), std::exception);
}

TEST(MemSave, InPlaceChangeOfTheOutputIsDetected) {
  auto config = testing::small_cifar("revup-memsave", 8);
  Network net(config);
  auto features = net->features(torch::randn({1, 3, 8, 8}));
  features.mul_(2);  // would silently corrupt the rebuilt activations
  EXPECT_THROW(features.sum().backward(), std::exception);
}

}  // namespace
}  // namespace revup
