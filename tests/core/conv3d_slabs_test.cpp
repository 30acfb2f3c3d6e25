#include "core/conv3d_slabs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/core/conv_norms.h"

namespace revup {
namespace {

struct Case {
  int64_t kernel, stride, padding;
};

// Slabs of one or two output planes (the budget is one plane's unfolded
// input, or two), the last one shorter, at borders with and without padding.
TEST(Conv3dSlabs, EqualTheWholeConvolutionAndItsGradients) {
  torch::manual_seed(31);
  const auto x = torch::randn({2, 3, 9, 6, 5}, torch::kFloat64);
  for (const auto& c :
       {Case{3, 1, 1}, Case{3, 2, 1}, Case{1, 1, 0}, Case{3, 1, 0}, Case{4, 4, 0}}) {
    SCOPED_TRACE(::testing::Message()
                 << "k " << c.kernel << " stride " << c.stride << " padding " << c.padding);
    const auto w = torch::randn({4, 3, c.kernel, c.kernel, c.kernel}, torch::kFloat64);
    const auto b = torch::randn({4}, torch::kFloat64);
    const auto whole = torch::conv3d(x, w, b, c.stride, c.padding);
    const int64_t out_h = whole.size(3), out_w = whole.size(4);
    const std::int64_t plane = 2 * 3 * c.kernel * c.kernel * c.kernel * out_h * out_w * 8;
    for (const std::int64_t budget : {plane, 2 * plane}) {
      {
        torch::NoGradGuard no_grad;
        EXPECT_LT(
            testing::relative_error(conv3d_in_slabs(x, w, b, c.stride, c.padding, budget), whole),
            1e-14);
      }
      // Under autograd, the slabs' graph gives the whole convolution's gradients.
      const auto xg = x.clone().requires_grad_(), wg = w.clone().requires_grad_();
      const auto g = torch::randn_like(whole);
      (conv3d_in_slabs(xg, wg, b, c.stride, c.padding, budget) * g).sum().backward();
      const auto expected = at::convolution_backward(
          g, x, w, std::vector<int64_t>{4}, std::vector<int64_t>(3, c.stride),
          std::vector<int64_t>(3, c.padding), std::vector<int64_t>(3, 1), false,
          std::vector<int64_t>(3, 0), 1, {true, true, true});
      EXPECT_LT(testing::relative_error(xg.grad(), std::get<0>(expected)), 1e-13);
      EXPECT_LT(testing::relative_error(wg.grad(), std::get<1>(expected)), 1e-13);
      // And the hand-written slab backward gives them without a graph.
      const auto [gi, gw, gb] =
          conv3d_backward_in_slabs(g, x, w, c.stride, c.padding, {true, true, true}, budget);
      EXPECT_LT(testing::relative_error(gi, std::get<0>(expected)), 1e-13);
      EXPECT_LT(testing::relative_error(gw, std::get<1>(expected)), 1e-13);
      EXPECT_LT(testing::relative_error(gb, std::get<2>(expected)), 1e-13);
    }
  }
}

TEST(Conv3dSlabs, KeepTheUnfoldedScratchToTheBudget) {
  // LibTorch's CPU conv3d unfolds its whole input (27 times it for 3x3x3);
  // in slabs the scratch is one slab's.
  torch::manual_seed(32);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 8, 32, 32, 32});  // 1 MiB
  const auto w = torch::randn({8, 8, 3, 3, 3});
  const auto g = torch::randn({1, 8, 32, 32, 32});
  const std::int64_t budget = 4ll << 20, mib = 1ll << 20;
  const auto whole = testing::peak_bytes_of([&] { torch::conv3d(x, w, {}, 1, 1); });
  const auto slabs = testing::peak_bytes_of([&] { conv3d_in_slabs(x, w, {}, 1, 1, budget); });
  const auto whole_back = testing::peak_bytes_of([&] {
    at::convolution_backward(g, x, w, std::vector<int64_t>{8}, std::vector<int64_t>(3, 1),
                             std::vector<int64_t>(3, 1), std::vector<int64_t>(3, 1), false,
                             std::vector<int64_t>(3, 0), 1, {true, true, false});
  });
  const auto slabs_back = testing::peak_bytes_of([&] {
    conv3d_backward_in_slabs(g, x, w, 1, 1, {true, true, false}, budget);
  });
  std::cout << "peak MiB: forward " << whole / double(mib) << " whole, " << slabs / double(mib)
            << " in slabs; backward " << whole_back / double(mib) << ", "
            << slabs_back / double(mib) << "\n";
  // Debian's 1.13 unfolds (slow_conv3d); a oneDNN build may not, and then the
  // slabs only have to stay within the same bound.
  if (whole >= 27 * mib) EXPECT_LT(slabs, whole / 3);
  // Output (1 MiB) + one slab's unfolded input (<= 4 MiB) + its window and output.
  EXPECT_LE(slabs, 1 * mib + budget + 1 * mib);
  EXPECT_LE(slabs_back, 2 * mib + budget + 2 * mib);
}

}  // namespace
}  // namespace revup
