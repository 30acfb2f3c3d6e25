// The Lipschitz guarantee measured, not assumed: true operator norms from the
// kernels' transfer matrices, independent of the power iteration that sets
// the spectral norms' divisors. (Training with P = 1 is checked end to end by
// cli.lipschitz_training through `bench lipschitz`.)
#include <gtest/gtest.h>

#include "core/operator_norm.h"
#include "core/trainer.h"
#include "models/lipschitz_audit.h"
#include "models/network.h"
#include "tests/test_util.h"

namespace revup {
namespace {

TEST(OperatorNorm, BoundsTheConvolutionAtEveryInputSizeAndIsTight) {
  torch::manual_seed(3);
  const auto w = torch::randn({5, 3, 3, 3}, torch::kFloat64);
  const double bound = conv_operator_norm(w, 128);
  for (int64_t n : {8, 33, 96}) {
    SCOPED_TRACE(n);
    EXPECT_LE(testing::zero_padded_conv_norm(w, n, 400), bound);
  }
  // Large inputs approach the supremum: the bound is not loose.
  EXPECT_GE(testing::zero_padded_conv_norm(w, 96, 400), bound / 1.03);
  // A 1x1 kernel is its matrix at every frequency.
  const auto m = torch::randn({6, 4, 1, 1}, torch::kFloat64);
  EXPECT_NEAR(conv_operator_norm(m), torch::linalg_svdvals(m.view({6, 4})).max().item<double>(),
              1e-9);
}

TEST(OperatorNorm, EqualsTheLargestSingularValueOverTheWholeGrid) {
  // The direct definition: every frequency of the full N x N spectrum, the
  // transfer matrix's largest singular value. circular_conv_norm takes half
  // the spectrum and the Gram matrices from the kernel's autocorrelation.
  torch::manual_seed(11);
  for (const auto& shape : {std::vector<int64_t>{7, 4, 5, 5}, std::vector<int64_t>{3, 6, 3, 3}}) {
    const auto w = torch::randn(shape, torch::kFloat64);
    const int64_t grid = 12, k = shape[2];
    const auto transfer = torch::fft::fft2(torch::constant_pad_nd(w, {0, grid - k, 0, grid - k}))
                              .permute({2, 3, 0, 1});
    const double direct = torch::linalg_svdvals(transfer).max().item<double>();
    EXPECT_NEAR(circular_conv_norm(w, grid), direct, 1e-9 * direct) << w.sizes();
  }
}

TEST(OperatorNorm, ThreeDEqualsTheLargestSingularValueOverTheWholeGrid) {
  torch::manual_seed(12);
  for (const auto& shape :
       {std::vector<int64_t>{5, 3, 3, 3, 3}, std::vector<int64_t>{2, 4, 3, 3, 3}}) {
    const auto w = torch::randn(shape, torch::kFloat64);
    const int64_t grid = 8, k = shape[2];
    const auto padded = torch::constant_pad_nd(w, {0, grid - k, 0, grid - k, 0, grid - k});
    const auto transfer =
        torch::fft::fftn(padded, c10::nullopt, {2, 3, 4}).permute({2, 3, 4, 0, 1});
    const double direct = torch::linalg_svdvals(transfer).max().item<double>();
    EXPECT_NEAR(circular_conv_norm(w, grid), direct, 1e-9 * direct) << w.sizes();
  }
}

TEST(OperatorNorm, ThreeDBoundsTheZeroPaddedConvolutionAtEveryVolumeSize) {
  // Issue 19: the transfer-matrix argument in three axes. The bound from a
  // 32^3 grid holds on volumes smaller and larger than the grid, and large
  // volumes come close to it.
  torch::manual_seed(13);
  const auto w = torch::randn({4, 3, 3, 3, 3}, torch::kFloat64);
  const double bound = conv_operator_norm(w, 32);
  double largest = 0;
  for (int64_t n : {4, 11, 40}) {
    SCOPED_TRACE(n);
    const double sigma = testing::zero_padded_conv_norm(w, n, 150);
    EXPECT_LE(sigma, bound);
    largest = std::max(largest, sigma);
  }
  EXPECT_GE(largest, bound / 1.15);  // the 3D margin on a 32 grid is 1.10
}

TEST(OperatorNorm, TheSamplingMarginLiftsACoarseGridAboveEveryFinerOne) {
  // The margin's claim, tested on kernels: the coarse grid's maximum times the
  // margin is at least the maximum on a finer grid (4 and 3 times finer per axis).
  torch::manual_seed(14);
  for (int trial = 0; trial < 4; ++trial) {
    const auto w2 = torch::randn({4, 4, 3, 3}, torch::kFloat64);
    EXPECT_GE(circular_conv_norm(w2, 12) * sampling_margin(3, 12, 2),
              circular_conv_norm(w2, 48) * (1 - 1e-12));
    const auto w3 = torch::randn({3, 3, 3, 3, 3}, torch::kFloat64);
    EXPECT_GE(circular_conv_norm(w3, 16) * sampling_margin(3, 16, 3),
              circular_conv_norm(w3, 48) * (1 - 1e-12));
  }
  EXPECT_EQ(sampling_margin(1, 4, 3), 1.0);
  // The coarsest grids with a margin for 3x3 (3x3x3) kernels, and the ones just below.
  EXPECT_EQ(coarsest_grid(3, 2), 9);
  EXPECT_EQ(coarsest_grid(3, 3), 14);
  EXPECT_EQ(coarsest_grid(1, 3), 1);
  EXPECT_LT(sampling_margin(3, 13, 3), 0);
  EXPECT_GT(sampling_margin(3, 32, 3), sampling_margin(3, 32, 2));  // more axes, more room
  EXPECT_LT(sampling_margin(3, 8, 3), 0);                           // too coarse: refused
  EXPECT_THROW(conv_operator_norm(torch::randn({2, 2, 3, 3, 3}), 8), std::invalid_argument);
}

TEST(OperatorNorm, CatchesAProbeThatLagsBehindTheWeights) {
  // What the audit exists for: the estimator reads sigma at its probe, and a
  // probe left behind by a weight change under-estimates it.
  torch::manual_seed(5);
  SpectralNormConv conv(8, 8, 3);
  conv->power_iterate(200);
  {
    torch::NoGradGuard no_grad;
    // Move the weight along a direction the probe does not see.
    conv->weight.mul_(0.1).add_(torch::randn_like(conv->weight) * 2.0);
  }
  const double true_norm = conv_operator_norm(conv->weight);
  EXPECT_LT(conv->sigma_bound(), 0.9 * true_norm);
  conv->power_iterate(300);
  EXPECT_GE(conv->sigma_bound(), true_norm);  // converged: the margin covers the supremum
}

TEST(ConvergeSpectralNorms, BringsEveryProbeToTheWeightsItNormalizes) {
  // What bench invert relies on after perturbing a network by hand: every
  // conv's sigma bound at its grid's true maximum, whatever its probe was.
  torch::manual_seed(6);
  auto c = testing::small_cifar("revup-memsave", 14);
  Network net(c);
  perturb_parameters(*net, 0.3, 0.1);
  std::vector<SpectralNormConvImpl*> convs;
  for (const auto& m : net->modules()) {
    if (auto* conv = m->as<SpectralNormConvImpl>()) convs.push_back(conv);
  }
  ASSERT_FALSE(convs.empty());
  double lagging = 0;
  for (auto* conv : convs) {
    lagging = std::max(lagging, circular_conv_norm(conv->weight, conv->options.grid) /
                                    (conv->sigma_bound() / conv->sampling_margin()));
  }
  EXPECT_GT(lagging, 1.05);  // Fixup's zero-initialized convs: probes far from these weights
  EXPECT_GT(converge_spectral_norms(*net, 1e-7), 1);
  for (auto* conv : convs) {
    const double grid_max = circular_conv_norm(conv->weight, conv->options.grid);
    const double estimate = conv->sigma_bound() / conv->sampling_margin();
    EXPECT_NEAR(estimate, grid_max, 1e-3 * grid_max);
  }
}

TEST(Network, EveryRevUpBlockIsContractiveByItsTrueOperatorNorms) {
  torch::manual_seed(40);
  auto c = testing::small_cifar("revup-memsave", 20);
  Network net(c);
  testing::perturb(*net, 1.0, 0.5);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->scalar_parameters()) p.fill_(3.0);  // Fixup's scale far above 1
  }
  net->eval();
  const auto audit = audit_lipschitz(*net, 128);
  ASSERT_EQ(audit.blocks.size(), net->invertible_blocks().size());
  for (const auto& b : audit.blocks) {
    SCOPED_TRACE(b.name);
    // Converged probes: each conv at most c up to the 128-grid's margin (0.24 %).
    for (const auto& conv : b.convs) EXPECT_LE(conv.true_sigma, c.sn.coeff * 1.0025) << conv.name;
    EXPECT_LT(b.bound, c.sn.coeff);
  }
  EXPECT_GT(audit.max_sigma_over_c, 0.5);  // the scale of 3 was normalized, not ignored
}

TEST(Network, ConfigurationsThatVoidTheGuaranteeAreRefused) {
  auto c = testing::small_cifar("revup-memsave", 8);
  c.inverse.iterations = 0;
  EXPECT_THROW(Network{c}, std::invalid_argument);
  c.inverse.tolerance = 1e-6;  // a tolerance-driven inverse is fine
  EXPECT_NO_THROW(Network{c});
  c = testing::small_cifar("revup-memsave", 8);
  c.sn.coeff = 1.0;
  EXPECT_THROW(Network{c}, std::invalid_argument);

  c = testing::small_cifar("revup-memsave", 8);
  c.sn.power_iterations = 0;
  Network net(c);
  struct Noise : Dataset {
    size_t size() const override { return 4; }
    Example get(size_t) const override {
      return {torch::randn({3, 8, 8}), torch::tensor(int64_t{1})};
    }
  } data;
  TrainerOptions t;
  t.batch_size = 2;
  Trainer trainer(
      trainable(net),
      [](const torch::Tensor& out, const torch::Tensor& y) {
        return torch::nn::functional::cross_entropy(out, y);
      },
      t);
  try {
    trainer.fit(data);
    FAIL() << "training with P = 0 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("power_iterations = 0 while training"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace revup
