// The segmentation network: shapes at any size, its config round trip, and
// MemSave gradients equal to plain autograd's through backbone AND decoder
// (stage outputs feed both the next stage and the decoder).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../export_test_util.h"
#include "../test_util.h"
#include "core/memory_tracker.h"
#include "models/conv1x1.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_net.h"
#include "models/segmentation_presets.h"
#include "models/upsampled_loss.h"

namespace revup {
namespace {

// The ImageNet-style stem ("auto"); the export tests use the patch stem.
SegmentationConfig tiny(const std::string& arch) {
  return testing::tiny_segmentation(arch, "auto");
}

TEST(SegmentationNet, PredictsEveryPixelAtAnySize) {
  SegmentationNet net(tiny("revup-memsave"));
  for (const auto& [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{64, 64}, {37, 53}, {9, 130}}) {
    const auto out = net->forward(torch::randn({1, 3, h, w}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, h, w}));
  }
}

TEST(SegmentationNet, ConfigRoundTripsAndPresetsBuild) {
  const auto c = tiny("revup");
  const auto back = SegmentationConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  for (const auto& p : segmentation_presets()) {
    const auto config = segmentation_preset(p.name, 4, 7);
    EXPECT_EQ(config.backbone.in_channels, 4);
    EXPECT_EQ(config.num_classes, 7);
  }
  EXPECT_THROW(segmentation_preset("huge", 3, 2), std::invalid_argument);
  auto bad = c;
  bad.num_classes = 1;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
}

TEST(SegmentationNet, MemSaveGradientsEqualAutograd) {
  auto [plain, memsave] = testing::segmentation_twins(tiny("revup"));

  torch::manual_seed(1);
  const auto x = torch::randn({1, 3, 40, 48}, torch::kFloat64);
  auto target = torch::randint(0, 3, {1, 40, 48}, torch::kLong);
  target.index_put_({0, 0}, 255);  // a row of ignored pixels
  auto grads = [&](SegmentationNet& net) {
    net->zero_grad();
    segmentation_loss(net->forward(x), target, {255, 0.5}).backward();
    return testing::flat_gradients(*net);
  };
  const auto a = grads(plain);
  const auto b = grads(memsave);
  ASSERT_GT(a.norm().item<double>(), 0.0);
  EXPECT_LT(testing::relative_error(b, a), 1e-8);
}

// The decoder's 1x1 convs are matrix products, and its head keeps only
// relu(x) and masks dL/d relu(x) in place: the same value and gradients
// (input, weight, bias) as conv2d, and as relu then conv2d.
TEST(Conv1x1, EqualsConv2dWithItsGradients) {
  torch::manual_seed(5);
  const auto x0 = torch::randn({2, 6, 5, 7}, torch::kFloat64);
  const auto w0 = torch::randn({4, 6, 1, 1}, torch::kFloat64);
  const auto b0 = torch::randn({4}, torch::kFloat64);
  const auto upstream = torch::randn({2, 4, 5, 7}, torch::kFloat64);
  ASSERT_GT(x0.lt(0).sum().item<int64_t>(), 0);  // the ReLU's mask matters
  for (const bool relu : {false, true}) {
    auto run = [&](bool lean) {
      auto x = x0.clone().requires_grad_(true);
      auto w = w0.clone().requires_grad_(true);
      auto b = b0.clone().requires_grad_(true);
      torch::Tensor y;
      if (lean) {
        y = relu ? relu_conv1x1(x, w, b) : conv1x1(x, w, b);
      } else {
        y = torch::conv2d(relu ? torch::relu(x) : x, w, b);
      }
      (y * upstream).sum().backward();
      return std::vector<torch::Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
    };
    const auto expected = run(false), got = run(true);
    ASSERT_GT(expected[1].abs().sum().item<double>(), 0.0);
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_LT(testing::relative_error(got[i], expected[i]), 1e-12)
          << (relu ? "relu_conv1x1" : "conv1x1") << ", output " << i;
    }
  }
}

TEST(SegmentationLoss, IgnoresIgnoredPixelsAndDiceIsZeroWhenPerfect) {
  const auto target = torch::tensor({{{0, 1}, {1, 255}}}, torch::kLong);
  auto logits = torch::zeros({1, 2, 2, 2});
  logits.index_put_({0, 0, 0, 0}, 30.0);
  logits.index_put_({0, 1, 0, 1}, 30.0);
  logits.index_put_({0, 1, 1, 0}, 30.0);
  logits.index_put_({0, 0, 1, 1}, 30.0);  // "wrong", but that pixel is ignored
  EXPECT_LT(segmentation_loss(logits, target, {255, 0.0}).item<double>(), 1e-6);
  EXPECT_LT(soft_dice_loss(logits, target, 255).item<double>(), 1e-6);
  logits.index_put_({0, 0, 0, 0}, -30.0);  // now a labelled pixel is wrong
  EXPECT_GT(segmentation_loss(logits, target, {255, 1.0}).item<double>(), 1.0);
}

// The banded loss must give the numbers of "upsample everything, then the
// plain loss": same value and same gradient, at sizes that are not a multiple
// of the coarse grid, with ignored pixels, over many bands.
TEST(UpsampledLoss, EqualsFullResolutionLossAndGradient) {
  namespace F = torch::nn::functional;
  torch::manual_seed(3);
  const auto coarse = torch::randn({2, 4, 7, 9}, torch::kFloat64) * 3;
  auto target = torch::randint(0, 4, {2, 29, 35}, torch::kLong);
  target.index_put_({0, torch::indexing::Slice(3, 6)}, 255);
  target.index_put_({1, torch::indexing::Slice(), 0}, 255);
  for (const double dice : {0.0, 0.7}) {
    auto full_in = coarse.clone().requires_grad_(true);
    const auto up = F::interpolate(full_in, F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{29, 35})
                                                .mode(torch::kBilinear)
                                                .align_corners(false));
    const auto expected = segmentation_loss(up, target, {255, dice});
    expected.backward();

    auto banded_in = coarse.clone().requires_grad_(true);
    const auto banded = upsampled_segmentation_loss(banded_in, target, {255, dice, 2 * 4 * 35 * 3});
    banded.backward();
    EXPECT_NEAR(banded.item<double>(), expected.item<double>(), 1e-6) << "dice " << dice;
    ASSERT_GT(full_in.grad().norm().item<double>(), 0.0);
    EXPECT_LT(testing::relative_error(banded_in.grad(), full_in.grad()), 1e-6) << "dice " << dice;
  }
  const auto rows = upsample_rows(coarse, 29, 35, 10, 17);
  const auto all = F::interpolate(coarse, F::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{29, 35})
                                              .mode(torch::kBilinear)
                                              .align_corners(false));
  EXPECT_LT((rows - all.narrow(2, 10, 7)).abs().max().item<double>(), 1e-10);
}

TEST(UpsampledLoss, NamesLabelsTheModelCannotPredict) {
  const auto coarse = torch::zeros({1, 3, 4, 4});
  auto target = torch::zeros({1, 16, 16}, torch::kLong);
  target.index_put_({0, 9, 9}, 7);
  try {
    upsampled_segmentation_loss(coarse, target, {});
    FAIL() << "a label beyond the model's classes was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("class 7 but the model predicts 3 classes"),
              std::string::npos)
        << e.what();
  }
}

TEST(SegmentationNet, TrainsOnCoarseLogitsThatUpsampleToTheFullOnes) {
  namespace F = torch::nn::functional;
  SegmentationNet net(tiny("revup-memsave"));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 37, 53});
  const auto coarse = net->forward_coarse(x);
  EXPECT_LT(coarse.size(2), 37);
  const auto up = F::interpolate(coarse, F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{37, 53})
                                             .mode(torch::kBilinear)
                                             .align_corners(false));
  EXPECT_TRUE(torch::allclose(up, net->forward(x)));
}

// Training reads the head's features and applies the head inside the loss:
// the same loss and the same gradient for every parameter as the plain loss
// of the coarse logits.
TEST(SegmentationNet, TrainingObjectiveIsTheLossOfTheCoarseLogits) {
  auto x = torch::randn({1, 3, 37, 53}, torch::kFloat64);
  auto target = torch::randint(0, 3, {1, 37, 53}, torch::kLong);
  target.index_put_({0, 0}, 255);
  // Two nets from one seed: a training forward advances the spectral norms'
  // probes, so one net would see other weights the second time.
  const auto loss_and_grads = [&](bool objective) {
    torch::manual_seed(64);
    SegmentationNet net(tiny("revup-memsave"));
    net->to(torch::kFloat64);
    torch::Tensor loss;
    if (objective) {
      const auto o = training_objective(net, {255, 0.5});
      const auto features = o.model.forward(x);
      EXPECT_EQ(features.size(1), net->config().decoder_width);
      loss = o.loss(features, target);
    } else {
      loss = segmentation_loss(net->forward_coarse(x), target, {255, 0.5});
    }
    loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : net->parameters()) g.push_back(p.grad().clone());
    return std::make_pair(loss.item<double>(), g);
  };
  const auto [want, want_grads] = loss_and_grads(false);
  const auto [got, got_grads] = loss_and_grads(true);
  EXPECT_NEAR(got, want, 1e-10);
  ASSERT_EQ(got_grads.size(), want_grads.size());
  for (size_t i = 0; i < got_grads.size(); ++i) {
    EXPECT_LT(testing::relative_error(got_grads[i], want_grads[i]), 1e-8) << "parameter " << i;
  }
}

}  // namespace
}  // namespace revup
