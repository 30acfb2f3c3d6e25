#include "io/mask_colors.h"

#include <gtest/gtest.h>

namespace revup {
namespace {

TEST(MaskColors, ColorizeAndBackAreInverse) {
  const auto table = ClassTable::from_names({"bg", "a", "b", "c"});
  auto mask = torch::randint(0, 4, {5, 7}, torch::kInt64);
  mask[0][0] = table.ignore_index;
  const auto rgb = colorize(mask, table);
  EXPECT_EQ(rgb.sizes(), (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(rgb.scalar_type(), torch::kUInt8);
  EXPECT_EQ(rgb[0][0][0].item<int>(), 0);  // ignore is black
  auto expected = mask.clone();
  expected[0][0] = 0;  // black is the background's colour too
  EXPECT_TRUE(colors_to_ids(rgb, table, "m.png").equal(expected));
}

TEST(MaskColors, VoidColourIsIgnoreAndUnknownColoursAreErrors) {
  const auto table = ClassTable::from_names({"bg", "a"});
  auto rgb = torch::zeros({3, 2, 2}, torch::kUInt8);
  const auto v = voc_color(255);
  for (int k = 0; k < 3; ++k) rgb[k][0][1] = v[k];
  EXPECT_EQ(colors_to_ids(rgb, table, "m.png")[0][1].item<int64_t>(), 255);
  rgb[1][1][1] = 77;
  try {
    colors_to_ids(rgb, table, "m.png");
    FAIL() << "unknown colour accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("m.png: colour (0, 77, 0) at x=1, y=1"), std::string::npos)
        << e.what();
  }
}

TEST(MaskColors, OverlayBlendsOnlyLabelledPixels) {
  const auto table = ClassTable::from_names({"bg", "a"});
  const auto image = torch::full({1, 2, 2}, 100, torch::kUInt8);
  auto mask = torch::ones({2, 2}, torch::kInt64);
  mask[0][0] = 255;
  const auto o = overlay(image, mask, table, 0.5);
  EXPECT_EQ(o.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(o[0][0][0].item<int>(), 100);  // ignored: the image alone
  EXPECT_EQ(o[0][1][1].item<int>(), 114);  // (100 + 128) / 2
  EXPECT_EQ(o[1][1][1].item<int>(), 50);   // (100 + 0) / 2
  const auto wide = torch::arange(4, torch::kInt32).reshape({1, 2, 2}) * 1000;
  EXPECT_EQ(to_display_rgb(wide).scalar_type(), torch::kUInt8);  // 16-bit stretched
}

}  // namespace
}  // namespace revup
