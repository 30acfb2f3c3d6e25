#include "models/network.h"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include <algorithm>
#include <cmath>

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
  // 9 blocks x 5 scalars (2 convs: 4 biases + scale) + the stem's bias + the
  // classifier's bias (Fixup's reference trains every bias at lr/10).
  EXPECT_EQ(scalars.size(), 9u * 5u + 1u + 1u);
  const auto fc_bias = net->named_parameters()["fc.bias"];
  EXPECT_TRUE(std::any_of(scalars.begin(), scalars.end(),
                          [&](const torch::Tensor& t) { return t.is_same(fc_bias); }));
  // The BatchNorm baseline is no Fixup network: its norms' biases keep the full rate.
  Network bn(testing::small_cifar("resnet", 20));
  for (const auto& p : bn->named_parameters()) {
    if (p.key().find("norms") != std::string::npos) {
      const auto s = bn->scalar_parameters();
      EXPECT_FALSE(std::any_of(s.begin(), s.end(), [&](const torch::Tensor& t) {
        return t.is_same(p.value());
      })) << p.key();
    }
  }
}

TEST(Network, FixupInitializationAsTheReferenceHasIt) {
  torch::manual_seed(11);
  for (const char* arch : {"resnet-fixup", "revup-memsave"}) {
    SCOPED_TRACE(arch);
    const auto c = testing::small_cifar(arch, 56, {16, 32, 64});
    Network net(c);
    const int64_t blocks = 27;                                         // (56 - 2) / 2
    const double scale = std::pow(static_cast<double>(blocks), -0.5);  // m = 2: L^(-1/(2m-2))
    int64_t branches = 0;
    for (const auto& p : net->named_parameters()) {
      const auto& name = p.key();
      const auto& w = p.value();
      if (name.find("conv2") != std::string::npos ||
          name.find("convs.1.weight") != std::string::npos) {
        EXPECT_EQ(w.abs().max().item<double>(), 0.0) << name;  // each branch's last conv
        ++branches;
      } else if (name.find("conv1") != std::string::npos ||
                 name.find("convs.0.weight") != std::string::npos) {
        // He (fan-out) times L^(-1/(2m-2)): std sqrt(2 / (out * k * k)) * scale.
        const double he = std::sqrt(2.0 / static_cast<double>(w.size(0) * w.size(2) * w.size(3)));
        EXPECT_NEAR(w.std().item<double>() / (he * scale), 1.0, 0.15) << name;
      } else if (w.dim() == 0) {
        EXPECT_EQ(w.item<double>(), name.find("scale") != std::string::npos ? 1.0 : 0.0) << name;
      }
    }
    EXPECT_EQ(branches, blocks);
    EXPECT_EQ(net->named_parameters()["fc.weight"].abs().max().item<double>(), 0.0);
    EXPECT_EQ(net->named_parameters()["fc.bias"].abs().max().item<double>(), 0.0);
  }
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
