#include "core/fixed_point.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "../test_util.h"
#include "models/revup_block.h"

namespace revup {
namespace {

RevUpBlock perturbed_block(int64_t channels) {
  RevUpBlock block(BlockKind::kBasic, channels, /*total_blocks=*/3);
  testing::perturb(*block, 0.5, 0.2);
  for (auto& c : block->convs) c->power_iterate(300);
  block->eval();
  return block;
}

TEST(FixedPoint, ConvergesWithinTheBoundOfEquation4) {
  torch::manual_seed(10);
  torch::NoGradGuard no_grad;
  auto block = perturbed_block(6);
  const auto p = block->step_parameters();
  const auto x = torch::randn({2, 6, 40, 40}, torch::kFloat64);
  block->to(torch::kFloat64);
  const auto p64 = block->step_parameters();
  const auto y = block->apply(x, p64);
  const auto g = [&](const torch::Tensor& v) { return block->branch(v, p64); };

  const double lip = block->lipschitz_bound();
  ASSERT_LT(lip, 1.0);
  ASSERT_GT(lip, 0.3) << "perturbation too small to make the test meaningful";
  const double first_step = g(y).norm().item<double>();  // ||x1 - x0|| = ||g(y)||
  // Below this, float64 round-off (not the method) sets the error.
  const double floor = 1e-12 * x.norm().item<double>();
  double previous_error = 1e300;
  fixed_point_trace(y, g, 60, [&](int n, const torch::Tensor& xn) {
    const double error = (xn - x).norm().item<double>();
    const double bound = std::pow(lip, n) / (1 - lip) * first_step;
    EXPECT_LE(error, bound + floor) << "Eq. 4 violated at n = " << n;
    // A contraction: each iteration shrinks the error by at least Lip.
    if (previous_error > floor) EXPECT_LE(error, lip * previous_error + floor) << "n = " << n;
    previous_error = error;
  });
  EXPECT_LT(previous_error / x.norm().item<double>(), 1e-6);
}

TEST(FixedPoint, ToleranceModeStopsEarlyAndReportsItsResidual) {
  torch::manual_seed(11);
  torch::NoGradGuard no_grad;
  auto block = perturbed_block(4);
  block->to(torch::kFloat64);
  const auto p = block->step_parameters();
  const auto x = torch::randn({1, 4, 24, 24}, torch::kFloat64);
  const auto y = block->apply(x, p);
  FixedPointOptions options;
  options.tolerance = 1e-10;
  options.max_iterations = 200;
  const auto result = fixed_point_inverse(
      y, [&](const torch::Tensor& v) { return block->branch(v, p); }, options);
  EXPECT_LT(result.iterations, 200);
  EXPECT_GT(result.iterations, 1);
  EXPECT_LT(result.relative_change, 1e-10);
  EXPECT_LT(testing::relative_error(result.x, x), 1e-8);

  FixedPointOptions one;  // the paper's N = 1
  const auto single = fixed_point_inverse(
      y, [&](const torch::Tensor& v) { return block->branch(v, p); }, one);
  EXPECT_EQ(single.iterations, 1);
  EXPECT_GT(testing::relative_error(single.x, x), testing::relative_error(result.x, x));
}

// The reported change is ||x_N - x_{N-1}|| / ||x_N||, computed in chunks (the
// difference is never built whole); more than one chunk here (2^22 elements).
TEST(FixedPoint, ReportsTheRelativeChangeOfTheLastIteration) {
  const auto y = torch::rand({1, 5, 1024, 1000}, torch::kFloat64);
  const auto g = [](const torch::Tensor& x) { return 0.5 * torch::sin(x); };
  FixedPointOptions options;
  options.iterations = 3;
  const auto result = fixed_point_inverse(y, g, options);
  torch::Tensor x = y;
  torch::Tensor previous;
  for (int n = 0; n < 3; ++n) {
    previous = x;
    x = y - g(x);
  }
  const double expected = ((x - previous).norm() / x.norm()).item<double>();
  EXPECT_NEAR(result.relative_change, expected, 1e-12 * expected);
  EXPECT_LT(testing::relative_error(result.x, x), 1e-15);
}

// MemSave's backward rebuilds x into y's storage: the same iterates as the
// out-of-place inverse, the same reported change, and no tensor but y's.
TEST(FixedPoint, IntoYsStorageEqualsTheOutOfPlaceInverse) {
  torch::manual_seed(12);
  torch::NoGradGuard no_grad;
  for (const auto kind : {BlockKind::kBasic, BlockKind::kBottleneck}) {
    RevUpBlock block(kind, 8, /*total_blocks=*/3);
    testing::perturb(*block, 0.5, 0.2);
    block->eval();
    block->to(torch::kFloat64);
    const auto p = block->step_parameters();
    const auto y = block->apply(torch::randn({2, 8, 11, 9}, torch::kFloat64), p);
    const auto g = [&](const torch::Tensor& v) { return block->branch(v, p); };
    for (int n : {1, 3}) {
      SCOPED_TRACE(std::to_string(n) + " iterations, " +
                   (kind == BlockKind::kBasic ? "basic" : "bottleneck"));
      FixedPointOptions options;
      options.iterations = n;
      const auto expected = fixed_point_inverse(y, g, options);
      auto owned = y.clone();
      const void* storage = owned.data_ptr();
      const auto got = fixed_point_inverse_into(
          std::move(owned), g,
          [&](torch::Tensor& out, const torch::Tensor& v) {
            return block->subtract_branch(out, v, p);
          },
          options);
      EXPECT_EQ(got.x.data_ptr(), storage);
      EXPECT_EQ(got.iterations, n);
      EXPECT_LT(testing::relative_error(got.x, expected.x), 1e-13);
      EXPECT_NEAR(got.relative_change, expected.relative_change, 1e-12);
      EXPECT_GT(got.relative_change, 0.0);
    }
  }
}

}  // namespace
}  // namespace revup
