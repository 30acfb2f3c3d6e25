// The paper's Figure 4: with the injective stem the input image itself is
// rebuilt from the output of the first invertible stage, and more fixed-point
// iterations rebuild it better.
#include <gtest/gtest.h>

#include "models/reconstruction_probe.h"
#include "models/segmentation_presets.h"
#include "tests/test_util.h"

namespace revup {
namespace {

TEST(ReconstructionProbe, RebuildsTheInputImageThroughTheInjectiveStem) {
  torch::manual_seed(5);
  auto c = testing::small_cifar("revup", 14);
  c.injective_stem = true;
  Network net(c);
  testing::perturb(*net, 0.3, 0.1);
  ASSERT_TRUE(reconstructs_input(net));
  const auto image = torch::rand({1, 3, 16, 16});

  const auto one = reconstruct_input(net, image, 1);
  const auto five = reconstruct_input(net, image, 5);
  const auto forty = reconstruct_input(net, image, 40);
  std::printf("input image through %d blocks: relative error N=1 %.3e, N=5 %.3e, N=40 %.3e\n",
              one.blocks, one.relative_error, five.relative_error, forty.relative_error);
  EXPECT_EQ(one.blocks, 2);  // RevUp-14 has 2 blocks per stage; stage 2 starts strided
  EXPECT_TRUE(one.truth.equal(image));
  EXPECT_EQ(one.reconstructed.sizes(), image.sizes());
  EXPECT_GT(one.relative_error, 1e-4);  // N = 1 is visibly off (the paper's colour shift)
  EXPECT_LT(five.relative_error, one.relative_error);
  EXPECT_LT(forty.relative_error, 1e-4);
  EXPECT_TRUE(net->is_training());  // the probe restores the mode it found
}

TEST(ReconstructionProbe, SaysWhyAConvStemCannotRebuildTheInput) {
  Network net(testing::small_cifar("revup", 14));
  EXPECT_FALSE(reconstructs_input(net));
  try {
    reconstruct_input(net, torch::rand({1, 3, 8, 8}), 1);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("injective stem"), std::string::npos) << e.what();
  }
}

TEST(ReconstructionProbe, SegmentationPresetsTakeTheInjectiveStem) {
  auto config = segmentation_preset("cpu", 3, 2);
  use_injective_stem(config);
  SegmentationNet net(config);
  testing::perturb(*net, 0.3, 0.1);
  EXPECT_TRUE(reconstructs_input(net->backbone));
  const auto image = torch::rand({1, 3, 24, 20});
  EXPECT_EQ(net->forward(image).sizes(), (std::vector<int64_t>{1, 2, 24, 20}));
  const auto rebuilt = reconstruct_input(net->backbone, image, 40);
  EXPECT_EQ(rebuilt.blocks, 8);  // the cpu preset's first stage
  EXPECT_LT(rebuilt.relative_error, 1e-4);

  config.backbone.stem = "patch";
  EXPECT_THROW(config.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace revup
