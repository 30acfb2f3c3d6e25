// The segmentation head inside the banded loss (head_upsampled_segmentation_loss):
// the loss and every gradient of relu, a 1x1 head, upsampling and the plain
// loss, without the coarse logits ever existing whole.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../test_util.h"
#include "core/memory_tracker.h"
#include "models/conv1x1.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_net.h"
#include "models/upsampled_loss.h"

namespace revup {
namespace {

namespace F = torch::nn::functional;

struct Gradients {
  torch::Tensor loss, features, weight, bias;
};

// The reference: autograd through torch's relu, convolution and
// interpolate(align_corners=false) at full size, then the plain loss.
Gradients plain(const torch::Tensor& features, const torch::Tensor& weight,
                const torch::Tensor& bias, const torch::Tensor& target, double dice) {
  auto f = features.clone().requires_grad_(true);
  auto w = weight.clone().requires_grad_(true);
  auto b = bias.clone().requires_grad_(true);
  const bool volume = f.dim() == 5;
  const auto logits =
      volume ? torch::conv3d(torch::relu(f), w, b) : torch::conv2d(torch::relu(f), w, b);
  auto options =
      F::InterpolateFuncOptions().size(target.sizes().slice(1).vec()).align_corners(false);
  if (volume) {
    options.mode(torch::kTrilinear);
  } else {
    options.mode(torch::kBilinear);
  }
  const auto up = F::interpolate(logits, options);
  auto loss = segmentation_loss(up, target, {255, dice});
  loss.backward();
  return {loss.detach(), f.grad(), w.grad(), b.grad()};
}

// held: the caller keeps the features (their gradient needs its own buffer);
// otherwise the loss holds the only reference and writes over them.
Gradients head(const torch::Tensor& features, const torch::Tensor& weight,
               const torch::Tensor& bias, const torch::Tensor& target, double dice, int64_t band,
               bool held) {
  auto f = features.clone().requires_grad_(true);
  auto w = weight.clone().requires_grad_(true);
  auto b = bias.clone().requires_grad_(true);
  torch::Tensor loss;
  if (held) {
    const auto kept = f * 1.0;
    const auto before = kept.detach().clone();
    loss = head_upsampled_segmentation_loss(kept, w, b, target, {255, dice, band});
    loss.backward();
    EXPECT_TRUE(kept.equal(before)) << "the caller's features were overwritten";
  } else {
    loss = head_upsampled_segmentation_loss(f * 1.0, w, b, target, {255, dice, band});
    loss.backward();
  }
  return {loss.detach(), f.grad(), w.grad(), b.grad()};
}

void expect_same(const Gradients& got, const Gradients& want, const std::string& what) {
  EXPECT_NEAR(got.loss.item<double>(), want.loss.item<double>(), 1e-10) << what;
  EXPECT_LT(testing::relative_error(got.features, want.features), 1e-9) << what;
  EXPECT_LT(testing::relative_error(got.weight, want.weight), 1e-9) << what;
  EXPECT_LT(testing::relative_error(got.bias, want.bias), 1e-9) << what;
  EXPECT_GT(want.features.norm().item<double>(), 0.0) << what;
}

TEST(HeadLoss, EqualsTheHeadsUpsampledLossAndEveryGradientInFloat64) {
  torch::manual_seed(61);
  // Features around zero: the ReLU cuts about half of them.
  const auto features = torch::randn({2, 5, 4, 7}, torch::kFloat64);
  const auto weight = torch::randn({3, 5, 1, 1}, torch::kFloat64);
  const auto bias = torch::randn({3}, torch::kFloat64);
  auto target = torch::randint(0, 3, {2, 15, 26}, torch::kLong);
  target.index_put_({0, torch::indexing::Slice(3, 6)}, 255);
  for (const double dice : {0.0, 0.7}) {
    const auto want = plain(features, weight, bias, target, dice);
    // The whole image in one band; bands of 3 rows (a coarse row read by
    // several bands, its gradient settled when they have passed).
    for (const int64_t band : {int64_t{1} << 20, int64_t{2 * 3 * 26 * 3}}) {
      for (const bool held : {false, true}) {
        expect_same(head(features, weight, bias, target, dice, band, held), want,
                    "2D dice " + std::to_string(dice) + " band " + std::to_string(band) +
                        (held ? " held" : ""));
      }
    }
  }
}

TEST(HeadLoss, EqualsTheHeadsTrilinearlyUpsampledLossInSlabsAndPlaneRows) {
  torch::manual_seed(62);
  const auto features = torch::randn({2, 4, 4, 5, 6}, torch::kFloat64);
  const auto weight = torch::randn({3, 4, 1, 1, 1}, torch::kFloat64);
  const auto bias = torch::randn({3}, torch::kFloat64);
  auto target = torch::randint(0, 3, {2, 13, 17, 19}, torch::kLong);
  target.index_put_({1, torch::indexing::Slice(), 0}, 255);
  for (const double dice : {0.0, 0.7}) {
    const auto want = plain(features, weight, bias, target, dice);
    // Two planes a band; then 5 rows of a plane (a plane is more than a band).
    for (const int64_t band : {int64_t{2 * 3 * 17 * 19 * 2}, int64_t{2 * 3 * 19 * 5}}) {
      for (const bool held : {false, true}) {
        expect_same(head(features, weight, bias, target, dice, band, held), want,
                    "3D dice " + std::to_string(dice) + " band " + std::to_string(band) +
                        (held ? " held" : ""));
      }
    }
  }
}

TEST(HeadLoss, RefusesAHeadThatDoesNotReadTheFeatures) {
  const auto features = torch::randn({1, 4, 3, 3});
  const auto target = torch::zeros({1, 9, 9}, torch::kLong);
  EXPECT_THROW(head_upsampled_segmentation_loss(features, torch::randn({2, 5, 1, 1}),
                                                torch::randn({2}), target, {}),
               std::invalid_argument);
  EXPECT_THROW(head_upsampled_segmentation_loss(features, torch::randn({2, 4, 3, 3}),
                                                torch::randn({2}), target, {}),
               std::invalid_argument);
  EXPECT_THROW(head_upsampled_segmentation_loss(features, torch::randn({2, 4, 1, 1}),
                                                torch::randn({2}), target.select(1, 0), {}),
               std::invalid_argument);
}

// Why the head is inside the loss: 40 classes from 8 channels on 48x16x16
// coarse voxels (logits 1.9 MiB, features 0.38 MiB), upsampled to 96x32x32
// in bands of 2^14 elements. The logits never exist whole, in forward or in backward, and
// the features' gradient takes their storage.
TEST(HeadLoss, AStepHoldsNoCoarseLogits) {
  torch::manual_seed(63);
  MemoryTracker::install_cpu_tracking();
  const auto leaf = torch::randn({1, 8, 48, 16, 16}).requires_grad_(true);
  const auto weight = torch::randn({40, 8, 1, 1, 1}).requires_grad_(true);
  const auto bias = torch::randn({40}).requires_grad_(true);
  const auto target = torch::randint(0, 40, {1, 96, 32, 32}, torch::kUInt8);
  const UpsampledLossOptions options{255, 0.5, int64_t{1} << 14};
  const std::int64_t logits_bytes = 40 * 48 * 16 * 16 * 4;
  const std::int64_t features_bytes = leaf.numel() * 4;
  // The features (leaf * 1.0) and the leaf's gradient are the two
  // features-sized buffers; the rest is a band's scratch and a few rows.
  const auto peak = testing::peak_bytes_of([&] {
    head_upsampled_segmentation_loss(leaf * 1.0, weight, bias, target, options).backward();
  });
  EXPECT_LT(peak, 2 * features_bytes + logits_bytes / 2) << "peak " << peak << " B above live";
  EXPECT_GT(leaf.grad().norm().item<double>(), 0.0);
  // The head outside the loss: the logits (their gradient then in their
  // storage) sit beside the features' relu all through the step.
  leaf.mutable_grad() = torch::Tensor();
  const auto outside_peak = testing::peak_bytes_of([&] {
    upsampled_segmentation_loss(relu_conv1x1(leaf * 1.0, weight, bias), target, options).backward();
  });
  EXPECT_GT(outside_peak, logits_bytes + features_bytes) << "peak " << outside_peak << " B";
  std::printf("head inside the loss: %.2f MiB above live; outside: %.2f MiB\n",
              static_cast<double>(peak) / (1 << 20), static_cast<double>(outside_peak) / (1 << 20));
}

TEST(HeadLoss, BackwardTwiceSaysTheGraphIsGone) {
  const auto features = torch::randn({1, 4, 3, 3}, torch::requires_grad());
  const auto weight = torch::randn({2, 4, 1, 1}, torch::requires_grad());
  const auto target = torch::zeros({1, 9, 9}, torch::kLong);
  auto loss =
      head_upsampled_segmentation_loss(features * 1.0, weight, torch::zeros({2}), target, {});
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), std::runtime_error);
}

}  // namespace
}  // namespace revup
