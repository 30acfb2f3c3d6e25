// The patch stem's hand-written gradients (models/patch_conv_gradients.h)
// equal autograd's, in 2D and 3D, with uniform and per-axis strides, sizes
// that the patch does not divide, and with or without the input's gradient;
// and their scratch is a fraction of the input, not a multiple of it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "../test_util.h"
#include "core/memory_tracker.h"
#include "models/stem.h"

namespace revup {
namespace {

struct StemCase {
  std::vector<int64_t> strides;      // one per spatial axis
  std::vector<int64_t> input_sizes;  // [N, C, spatial...]
};

std::string describe(const StemCase& c) {
  std::string s = "strides";
  for (const auto v : c.strides) s += " " + std::to_string(v);
  s += ", input";
  for (const auto v : c.input_sizes) s += " " + std::to_string(v);
  return s;
}

TEST(PatchStem, HandWrittenGradientsEqualAutogradInFloat64) {
  torch::manual_seed(61);
  const std::vector<StemCase> cases{
      {{4, 4}, {1, 3, 18, 13}},      {{2, 4}, {2, 2, 9, 16}},      {{4, 4, 4}, {1, 2, 13, 10, 17}},
      {{1, 4, 4}, {1, 1, 5, 12, 9}}, {{2, 3, 4}, {2, 2, 6, 7, 8}},
  };
  for (const auto& c : cases) {
    const auto dims = static_cast<int64_t>(c.strides.size());
    StemBlock stem(StemKind::kPatch, StemNorm::kFixupBias, c.input_sizes[1], /*width=*/5, dims,
                   c.strides);
    stem->to(torch::kFloat64);
    {
      torch::NoGradGuard no_grad;
      stem->bias.fill_(0.05);  // some outputs below zero, some above: the ReLU's mask matters
    }
    const auto x = torch::randn(c.input_sizes, torch::kFloat64);
    const auto p = stem->step_parameters();
    const auto y = stem->apply(x, p);
    ASSERT_GT((y == 0).sum().item<int64_t>(), 0) << describe(c);
    ASSERT_GT((y > 0).sum().item<int64_t>(), 0) << describe(c);
    const auto grad_y = torch::randn_like(y);
    for (const bool input_needs_grad : {false, true}) {
      const auto autograd =
          stem->SequenceBlock::gradients(x, p, grad_y, input_needs_grad, /*reusable=*/false);
      for (const bool reusable : {false, true}) {
        const auto given = grad_y.clone();
        const auto [grad_x, grad_p] = stem->gradients(x, p, given, input_needs_grad, reusable);
        const auto what = describe(c) + (input_needs_grad ? ", input grad" : "") +
                          (reusable ? ", grad_y reused" : "");
        ASSERT_EQ(grad_p.size(), 2u) << what;
        EXPECT_LT(testing::relative_error(grad_p[0], autograd.second[0]), 1e-12) << what;
        EXPECT_LT(testing::relative_error(grad_p[1], autograd.second[1]), 1e-12) << what;
        EXPECT_EQ(grad_x.defined(), input_needs_grad) << what;
        if (input_needs_grad) {
          ASSERT_EQ(grad_x.sizes(), x.sizes()) << what;
          EXPECT_LT(testing::relative_error(grad_x, autograd.first), 1e-12) << what;
        }
        if (!reusable) EXPECT_TRUE(given.equal(grad_y)) << what << ": grad_y was changed";
      }
    }
  }
}

// The stem's backward for a 128^3 volume (8 MiB): the output (1 MiB at width
// 8), its masked gradient and one tap's view, never an input-sized buffer.
TEST(PatchStem, BackwardScratchIsAFractionOfTheVolume) {
  torch::manual_seed(62);
  MemoryTracker::install_cpu_tracking();
  StemBlock stem(StemKind::kPatch, StemNorm::kFixupBias, 1, /*width=*/8, /*dims=*/3);
  const auto x = torch::randn({1, 1, 128, 128, 128});
  const auto p = stem->step_parameters();
  const auto grad_y = torch::randn({1, 8, 32, 32, 32});
  const std::int64_t volume_bytes = x.numel() * 4;
  const auto peak = testing::peak_bytes_of([&] {
    const auto grads = stem->gradients(x, p, grad_y, /*input_needs_grad=*/false, false);
    ASSERT_TRUE(grads.second[0].defined());
  });
  EXPECT_LT(peak, volume_bytes / 2) << "peak " << peak << " B above live";
  const auto autograd_peak = testing::peak_bytes_of(
      [&] { stem->SequenceBlock::gradients(x, p, grad_y, /*input_needs_grad=*/false, false); });
  EXPECT_LT(peak, autograd_peak) << "autograd's " << autograd_peak << " B";
}

}  // namespace
}  // namespace revup
