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

TEST(ConfusionMatrix, DiceFromKnownCounts) {
  ConfusionMatrix cm(4, 255);
  // As above, with a fourth class the data is expected to hold but never scored.
  cm.add(torch::tensor({0, 1, 1, 1, 0, 2}), torch::tensor({0, 0, 1, 1, 2, 255}));
  const auto dice = cm.class_dice();
  EXPECT_DOUBLE_EQ(dice[0], 2.0 / 4.0);  // 2 tp / (2 tp + fp + fn)
  EXPECT_DOUBLE_EQ(dice[1], 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(dice[2], 0.0);
  EXPECT_TRUE(std::isnan(dice[3]));
  EXPECT_DOUBLE_EQ(cm.mean_dice(), 1.3 / 3.0);
  cm.expect_classes({0, 1, 2, 3});
  EXPECT_DOUBLE_EQ(cm.mean_dice(), 1.3 / 4.0);  // the unscored class counts 0
  EXPECT_DOUBLE_EQ(cm.metrics().at("mean_dice"), 1.3 / 4.0);
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

// Maps of millions of pixels are counted in chunks: the counts must be those of a count
// done by hand, and a bad id in the last chunk must leave the matrix as it was.
TEST(ConfusionMatrix, ChunkedCountsOfALargeByteMapEqualTheDirectCount) {
  torch::manual_seed(0);
  const int64_t classes = 5, n = 3'000'001;  // three chunks and one element
  auto target = torch::randint(0, classes, {n}, torch::kUInt8);
  target.narrow(0, 0, 1000).fill_(255);
  const auto prediction = torch::randint(0, classes, {n}, torch::kLong);
  ConfusionMatrix cm(classes, 255);
  cm.add(prediction.view({1, n}), target.view({1, n}));
  const auto keep = target.ne(255);
  const auto expected = torch::bincount(target.masked_select(keep).to(torch::kLong) * classes +
                                            prediction.masked_select(keep),
                                        {}, classes * classes)
                            .view({classes, classes});
  EXPECT_TRUE(torch::equal(cm.counts(), expected));
  EXPECT_EQ(cm.labelled_pixels(), n - 1000);

  auto bad = target.clone();
  bad[n - 1] = 9;
  EXPECT_THROW(cm.add(prediction, bad), std::invalid_argument);
  EXPECT_TRUE(torch::equal(cm.counts(), expected));
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

// A volume in cubes (a sliding window), blended: the same as a whole pass.
TEST(TiledInference, VolumesInCubesEqualTheWholeVolume) {
  torch::manual_seed(1);
  const auto w = torch::randn({4, 2, 1, 1, 1});
  const LogitsFunction model = [&](const torch::Tensor& x) { return torch::conv3d(x, w); };
  const auto volume = torch::randn({2, 19, 23, 17});
  const auto whole = predict_logits(model, volume);
  EXPECT_EQ(whole.sizes(), (std::vector<int64_t>{4, 19, 23, 17}));
  int64_t windows = 0;
  const LogitsFunction counting = [&](const torch::Tensor& x) {
    ++windows;
    EXPECT_LE(x.size(2), 8);
    return model(x);
  };
  for (const auto& [tile, overlap] :
       std::vector<std::pair<int64_t, int64_t>>{{8, 2}, {10, 0}, {12, 6}}) {
    const auto tiled = predict_logits(tile == 8 ? counting : model, volume, {tile, overlap});
    EXPECT_LT((tiled - whole).abs().max().item<double>(), 1e-5) << tile << "/" << overlap;
  }
  EXPECT_EQ(windows, 3 * 4 * 3);  // starts 0 6 11, 0 6 12 15 and 0 6 9
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

// Volumes: every flip, axial turn and rescale moves image and labels together;
// flips happen along all three axes, turns only in the axial (last two) plane.
TEST(Augmentation, KeepsVolumesAndLabelsAligned) {
  torch::manual_seed(4);
  const auto labels = torch::randint(0, 5, {16, 20, 24}, torch::kLong);
  const Example e{labels.to(torch::kFloat).unsqueeze(0), labels};
  AugmentationOptions o;
  o.intensity_jitter = 0;
  bool turned = false, depth_flipped = false;
  for (int i = 0; i < 24; ++i) {
    const auto a = augment(e, o);
    ASSERT_TRUE(a.input[0].to(torch::kLong).equal(a.target)) << "draw " << i;
    ASSERT_EQ(a.target.size(0), 16) << "the depth axis never turns";
    turned |= a.target.size(1) == 24;
    // Depth flipped: plane 0 is one of the last plane's axial turns or flips.
    const auto last = labels[15];
    for (const auto& t : {last, last.flip({0}), last.flip({1}), last.flip({0, 1})}) {
      depth_flipped |= t.sizes() == a.target[0].sizes() && t.equal(a.target[0]);
    }
  }
  EXPECT_TRUE(turned);
  EXPECT_TRUE(depth_flipped);
  o.min_scale = o.max_scale = 0.5;
  EXPECT_EQ(augment(e, o).target.numel(), 8 * 10 * 12);
  o.min_scale = o.max_scale = 1;
  o.flips = o.rotations = false;
  o.window = {4, 50, 6};  // clipped to the volume's 20 along H
  const auto window = augment(e, o);
  EXPECT_EQ(window.target.sizes(), (std::vector<int64_t>{4, 20, 6}));
  ASSERT_TRUE(window.input[0].to(torch::kLong).equal(window.target));
  o.window = {4, 6};
  EXPECT_THROW(augment(e, o), std::invalid_argument);
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
