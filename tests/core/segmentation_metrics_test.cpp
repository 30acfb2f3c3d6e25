// Confusion-matrix metrics, tiled inference and augmentation: the pieces a
// segmentation run's numbers come from.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/augmentation.h"
#include "core/confusion_matrix.h"
#include "core/segmentation_inference.h"

namespace revup {
namespace {

TEST(ConfusionMatrix, IouAndAccuracyFromKnownCounts) {
  ConfusionMatrix cm(3, 255);
  // target: 0 0 1 1 | 2 255 ; prediction: 0 1 1 1 | 0 2
  cm.add(torch::tensor({0, 1, 1, 1, 0, 2}), torch::tensor({0, 0, 1, 1, 2, 255}));
  const auto iou = cm.class_iou();
  EXPECT_DOUBLE_EQ(iou[0], 1.0 / 3.0);  // tp 1, fp 1 (the 2 predicted 0), fn 1
  EXPECT_DOUBLE_EQ(iou[1], 2.0 / 3.0);  // tp 2, fp 1
  EXPECT_DOUBLE_EQ(iou[2], 0.0);        // tp 0, fn 1 (the ignored pixel does not count)
  EXPECT_DOUBLE_EQ(cm.mean_iou(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(cm.pixel_accuracy(), 3.0 / 5.0);
  EXPECT_EQ(cm.labelled_pixels(), 5);
}

TEST(ConfusionMatrix, AbsentClassesDoNotCountTowardsTheMean) {
  ConfusionMatrix cm(4, 255);
  cm.add(torch::tensor({0, 1}), torch::tensor({0, 1}));
  EXPECT_TRUE(std::isnan(cm.class_iou()[3]));
  EXPECT_DOUBLE_EQ(cm.mean_iou(), 1.0);
  EXPECT_EQ(cm.metrics({"a", "b", "c", "d"}).count("iou/b"), 1u);
}

TEST(ConfusionMatrix, RejectsIdsOutsideTheClasses) {
  ConfusionMatrix cm(2, 255);
  EXPECT_THROW(cm.add(torch::tensor({0}), torch::tensor({7})), std::invalid_argument);
}

// A per-pixel model: tiles must reproduce the whole-image prediction exactly,
// whatever the tile and overlap (a seam would show as a difference).
TEST(TiledInference, EqualsWholeImageForAPerPixelModel) {
  torch::manual_seed(0);
  const auto w = torch::randn({4, 3, 1, 1});
  const LogitsFunction model = [&](const torch::Tensor& x) { return torch::conv2d(x, w); };
  const auto image = torch::randn({3, 37, 53});
  const auto whole = predict_logits(model, image);
  for (const auto& [tile, overlap] :
       std::vector<std::pair<int64_t, int64_t>>{{16, 4}, {20, 0}, {32, 16}}) {
    const auto tiled = predict_logits(model, image, {tile, overlap});
    EXPECT_LT((tiled - whole).abs().max().item<double>(), 1e-5) << tile << "/" << overlap;
  }
}

TEST(TiledInference, RejectsOverlapAsLargeAsTheTile) {
  const LogitsFunction model = [](const torch::Tensor& x) { return x; };
  EXPECT_THROW(predict_logits(model, torch::zeros({1, 40, 40}), {16, 16}), std::invalid_argument);
}

// Input channel 0 carries the label: after any flip, turn or rescale the two
// must still agree pixel for pixel.
TEST(Augmentation, KeepsImageAndLabelsAligned) {
  torch::manual_seed(3);
  const auto labels = torch::randint(0, 5, {24, 40}, torch::kLong);
  const Example e{labels.to(torch::kFloat).unsqueeze(0), labels};
  AugmentationOptions o;
  o.intensity_jitter = 0;
  bool rotated = false;
  for (int i = 0; i < 20; ++i) {
    const auto a = augment(e, o);
    ASSERT_TRUE(a.input[0].to(torch::kLong).equal(a.target)) << "draw " << i;
    rotated |= a.target.size(0) == 40;
  }
  EXPECT_TRUE(rotated) << "20 draws without a 90-degree turn";
  o.min_scale = 0.5;
  o.max_scale = 0.5;
  const auto half = augment(e, o);
  EXPECT_EQ(half.target.numel(), 12 * 20);
}

TEST(SegmentationInference, VolumesArePredictedSliceBySliceAlongTheirAxis) {
  const auto x = torch::arange(2 * 3 * 4 * 5, torch::kFloat).reshape({2, 3, 4, 5});
  const auto first_channel = [](const torch::Tensor& plane) { return plane[0].to(torch::kLong); };
  for (int axis = 0; axis < 3; ++axis) {
    int64_t calls = 0;
    const auto ids =
        predict_volume_slices(x, axis, first_channel, [&](int64_t done, int64_t total) {
          EXPECT_EQ(done, ++calls);
          EXPECT_EQ(total, x.size(axis + 1));
          return true;
        });
    EXPECT_TRUE(torch::equal(ids, x[0].to(torch::kLong))) << "axis " << axis;
  }
  // Stopping after the second slice returns nothing.
  const auto stopped =
      predict_volume_slices(x, 1, first_channel, [](int64_t done, int64_t) { return done < 2; });
  EXPECT_FALSE(stopped.defined());
}

}  // namespace
}  // namespace revup
