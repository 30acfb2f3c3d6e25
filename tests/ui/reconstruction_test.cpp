// The reconstruction panel: a block's input rebuilt from its output gets
// closer to the truth as N grows (Eq. 4), per block and in the view.
#include <gtest/gtest.h>

#include <QSpinBox>

#include "models/segmentation_presets.h"
#include "tests/test_util.h"
#include "tests/ui/training_test_util.h"
#include "ui/widgets/reconstruction_view.h"

namespace revup::ui {
namespace {

SegmentationNet perturbedNet(bool injective = false) {
  torch::manual_seed(3);
  auto config = segmentation_preset("cpu", 3, 2);
  if (injective) use_injective_stem(config);
  SegmentationNet net(config);
  // At Fixup's init every branch is 0 and any N rebuilds exactly.
  revup::testing::perturb(*net, 0.3, 0.1);
  net->eval();
  return net;
}

TEST(ReconstructionModel, ErrorShrinksWithMoreIterations) {
  ReconstructionModel model(perturbedNet(), torch::randn({3, 64, 80}));
  // RevUp-26: 8-2-2 basic blocks; the first of stages 2 and 3 is strided (not invertible).
  ASSERT_EQ(model.blockCount(), 10);
  const auto one = model.reconstruct({0, 0, 1});
  const auto many = model.reconstruct({0, 0, 40});
  std::printf("block 0: relative error N=1 %.3e, N=40 %.3e\n", one.relativeError,
              many.relativeError);
  EXPECT_GT(one.relativeError, 0.0);
  EXPECT_LT(many.relativeError, one.relativeError * 0.1);
  EXPECT_EQ(one.truth.size(), QSize(80 / 4, 64 / 4));  // the patch stem's stride
  EXPECT_EQ(one.error.size(), one.truth.size());

  const auto curves = model.errorCurves();
  ASSERT_EQ(curves.perBlock.size(), model.blockCount());
  for (const auto& block : curves.perBlock) {
    EXPECT_LE(block[2], block[0] + 1e-12);  // N = 40 never worse than N = 1
  }
  EXPECT_THROW(model.reconstruct({99, 0, 1}), std::out_of_range);
}

TEST(ReconstructionView, ShowsSmallerErrorForLargerN) {
  ReconstructionView view;
  view.resize(900, 700);
  view.show();
  view.setModel(perturbedNet(), torch::randn({3, 64, 64}));
  ASSERT_TRUE(testing::waitFor([&] { return view.lastCurves().perBlock.size() == 10; }));
  view.setRequest({1, 2, 1});
  ASSERT_TRUE(testing::waitFor([&] {
    return view.lastResult().request.iterations == 1 && view.lastResult().request.block == 1;
  }));
  const double coarse = view.lastResult().relativeError;
  view.setRequest({1, 2, 30});
  ASSERT_TRUE(testing::waitFor([&] { return view.lastResult().request.iterations == 30; }));
  EXPECT_LT(view.lastResult().relativeError, coarse);
  EXPECT_EQ(view.lastResult().request.channel, 2);
  EXPECT_FALSE(view.lastResult().truth.isNull());
}

// The paper's Figure 4: the image itself, rebuilt through the first stage.
TEST(ReconstructionModel, RebuildsTheInputImageWithTheInjectiveStem) {
  EXPECT_FALSE(ReconstructionModel(perturbedNet(), torch::randn({3, 32, 32})).rebuildsInput());
  ReconstructionModel model(perturbedNet(true), torch::randn({3, 40, 48}));
  ASSERT_TRUE(model.rebuildsInput());
  const int input = ReconstructionRequest::kInputImage;
  const auto one = model.reconstruct({input, 0, 1});
  const auto many = model.reconstruct({input, 0, 40});
  std::printf("input image through %d blocks: relative error N=1 %.3e, N=40 %.3e\n",
              one.blocksWalked, one.relativeError, many.relativeError);
  EXPECT_EQ(one.blocksWalked, 8);
  EXPECT_EQ(one.truth.size(), QSize(48, 40));  // full resolution: the stem has no stride
  EXPECT_EQ(one.truth.format(), QImage::Format_RGB888);
  EXPECT_GT(one.relativeError, 1e-4);
  EXPECT_LT(many.relativeError, one.relativeError * 0.01);
  EXPECT_LT(many.maxAbsError, one.maxAbsError);

  const auto curves = model.errorCurves();
  ASSERT_EQ(curves.inputImage.size(), curves.iterations.size());
  EXPECT_LT(curves.inputImage.last(), curves.inputImage.first());
}

TEST(ReconstructionView, OffersTheInputImageOnlyWhenItCanBeRebuilt) {
  ReconstructionView view;
  view.resize(900, 700);
  view.show();
  view.setModel(perturbedNet(true), torch::randn({3, 48, 48}));
  ASSERT_TRUE(testing::waitFor([&] { return !view.lastCurves().inputImage.isEmpty(); }));
  view.setRequest({ReconstructionRequest::kInputImage, 0, 40});
  ASSERT_TRUE(testing::waitFor([&] {
    return view.lastResult().request.block == ReconstructionRequest::kInputImage &&
           view.lastResult().request.iterations == 40;
  }));
  EXPECT_LT(view.lastResult().relativeError, 1e-3);
  EXPECT_EQ(view.findChild<QSpinBox*>("blockSpin")->minimum(), ReconstructionRequest::kInputImage);

  view.setModel(perturbedNet(), torch::randn({3, 48, 48}));
  EXPECT_EQ(view.findChild<QSpinBox*>("blockSpin")->minimum(), 0);
}

}  // namespace
}  // namespace revup::ui
