#include "models/network.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../test_util.h"

namespace revup {
namespace {

TEST(Network, EveryArchitectureBuildsAndClassifies) {
  for (const auto& arch : architecture_names()) {
    for (int depth : {20, 18, 50}) {
      ModelConfig c;
      c.arch = arch;
      c.depth = depth;
      c.num_classes = 7;
      if (depth != 20) c.widths = {8, 8, 8, 8};
      Network net(c);
      const auto logits = net->forward(torch::randn({2, 3, 32, 32}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7})) << arch << "-" << depth;
    }
  }
}

TEST(Network, ClassifierPoolsRectifiedFeatures) {
  // RevUp's pre-activation stream is signed; ResNet's post-activation stream
  // is rectified already. Either way the head must pool relu(features).
  torch::manual_seed(41);
  for (const char* arch : {"revup-memsave", "resnet-fixup"}) {
    Network net(testing::small_cifar(arch, 8));
    testing::perturb(*net, 1.0, 0.5);
    net->eval();
    torch::NoGradGuard no_grad;
    auto& fc = *net->named_modules()["fc"]->as<torch::nn::Linear>();
    fc.weight.normal_();
    const auto x = torch::randn({2, 3, 16, 16});
    const auto f = net->features(x);
    if (std::string(arch) == "revup-memsave") {
      EXPECT_LT(f.min().item<double>(), 0.0) << "the test needs negative features";
    }
    const auto expected = fc.forward(torch::relu(f).mean({2, 3}));
    EXPECT_TRUE(torch::allclose(net->forward(x), expected, 1e-5, 1e-6)) << arch;
  }
}

TEST(Network, DepthsMatchThePaper) {
  EXPECT_EQ(Network(testing::small_cifar("revup", 110))->residual_block_count(), 54);
  ModelConfig c;
  c.depth = 101;
  EXPECT_EQ(c.blocks_per_stage(), (std::vector<int>{3, 4, 23, 3}));
  EXPECT_TRUE(c.bottleneck());
}

TEST(Network, EveryRevUpBlockIsContractiveIncludingFixupScale) {
  torch::manual_seed(40);
  auto c = testing::small_cifar("revup-memsave", 20);
  Network net(c);
  testing::perturb(*net, 1.0, 0.5);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->scalar_parameters()) p.fill_(3.0);  // scale far above 1
  }
  for (auto& block : net->invertible_blocks()) {
    for (auto& conv : block->convs) conv->power_iterate(200);
    block->eval();
    // Lip(g) <= |scale| * prod_j sigma_j / divisor_j.
    const size_t m = block->convs.size();
    const auto scale = block->scalars.back();
    double lip = std::abs(scale.item<double>());
    for (size_t j = 0; j < m; ++j) {
      auto& conv = block->convs[j];
      const auto divisor =
          conv->divisor(conv->weight, conv->direction(), j + 1 == m ? scale : torch::Tensor());
      lip *= conv->sigma_bound() / divisor.item<double>();
    }
    EXPECT_LE(lip, c.sn.coeff * (1 + 1e-6));
  }
}

TEST(Network, ConfigRoundTripsThroughJson) {
  auto c = testing::small_cifar("revup-memsave", 32);
  c.sn.coeff = 0.7;
  c.inverse.iterations = 3;
  const auto back = ModelConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
}

TEST(Network, BadConfigsAreRejectedWithAReason) {
  EXPECT_THROW(ModelConfig::from_json({{"arch", "densenet"}}), std::invalid_argument);
  EXPECT_THROW(ModelConfig::from_json({{"depth", 21}}), std::invalid_argument);
  EXPECT_THROW(ModelConfig::from_json({{"spectral_norm", {{"coeff", 1.5}}}}),
               std::invalid_argument);
  EXPECT_THROW(ModelConfig::from_json({{"depth", 18}, {"widths", {1, 2}}}), std::invalid_argument);
}

TEST(Network, FixupScalarsAreSeparatedForTheirOwnLearningRate) {
  Network net(testing::small_cifar("revup", 20));
  const auto scalars = net->scalar_parameters();
  const auto weights = net->weight_parameters();
  EXPECT_EQ(scalars.size() + weights.size(), net->parameters().size());
  // 9 blocks x 5 scalars (2 convs: 4 biases + scale) + the stem's bias.
  EXPECT_EQ(scalars.size(), 9u * 5u + 1u);
}

TEST(Network, InjectiveStemMakesTheFirstStageInvertibleFromTheImage) {
  torch::manual_seed(41);
  auto c = testing::small_cifar("revup", 14);
  c.injective_stem = true;
  c.inverse.tolerance = 1e-12;
  c.inverse.max_iterations = 400;
  Network net(c);
  testing::perturb(*net);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto image = torch::randn({1, 3, 16, 16}, torch::kFloat64);
  net->to(torch::kFloat64);
  // Forward through the stem and stage 1, then invert stage 1 block by block.
  auto h = torch::constant_pad_nd(image, {0, 0, 0, 0, 0, 4 - 3});
  std::vector<TensorVector> params;
  for (const auto& lb : net->stages()[1]) {
    params.push_back(lb.block->step_parameters());
    h = lb.block->apply(h, params.back());
  }
  for (size_t i = net->stages()[1].size(); i-- > 0;) {
    const auto& block = net->stages()[1][i].block;
    h = fixed_point_inverse(
            h, [&](const torch::Tensor& v) { return block->branch(v, params[i]); }, c.inverse)
            .x;
  }
  EXPECT_LT(testing::relative_error(h.narrow(1, 0, 3), image), 1e-9);
  EXPECT_LT(h.narrow(1, 3, 1).abs().max().item<double>(), 1e-9) << "padding channels not zero";
}

}  // namespace
}  // namespace revup
