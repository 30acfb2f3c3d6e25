// PNG, JPEG, TIFF, BMP, WebP through the built-in (OpenCV) formats only, so
// the GDAL plugin's claim on .tif does not hide them.
#include <gtest/gtest.h>

#include "io/builtin_formats.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

FormatRegistry& opencv_only() {
  static FormatRegistry r = [] {
    FormatRegistry reg;
    register_builtin_formats(reg);
    return reg;
  }();
  return r;
}

Image make_image(int64_t c, torch::Dtype dtype, int64_t hi) {
  Image image;
  image.pixels = torch::randint(0, hi, {c, 37, 53}, torch::kInt64).to(dtype);
  return image;
}

void expect_round_trip(const std::string& ext, int64_t c, torch::Dtype dtype, int64_t hi,
                       bool lossless = true) {
  SCOPED_TRACE(ext + " channels=" + std::to_string(c) + " " + c10::toString(dtype));
  const auto path = testing::scratch_dir() + "/image" + ext;
  const auto image = make_image(c, dtype, hi);
  write_image(opencv_only(), image, path);
  const auto back = read_image(opencv_only(), path);
  EXPECT_EQ(back.pixels.sizes(), image.pixels.sizes());
  EXPECT_EQ(back.pixels.scalar_type(), dtype);
  if (lossless) EXPECT_TRUE(back.pixels.equal(image.pixels));
}

TEST(OpenCvFormats, Built) {
  ASSERT_TRUE(REVUP_TEST_HAVE_OPENCV) << "built without OpenCV: these formats cannot be tested";
  ASSERT_TRUE(have_opencv_formats());
}

TEST(OpenCvFormats, PngRoundTrips8And16BitGreyColourAlpha) {
  for (int64_t c : {1, 3, 4}) {
    expect_round_trip(".png", c, torch::kUInt8, 256);
    expect_round_trip(".png", c, torch::kInt32, 65536);  // 16-bit kept, widened
  }
}

TEST(OpenCvFormats, TiffRoundTrips8And16BitAndFloat) {
  expect_round_trip(".tif", 1, torch::kUInt8, 256);
  expect_round_trip(".tiff", 3, torch::kInt32, 65536);
  Image f;
  f.pixels = torch::rand({1, 9, 11});
  const auto path = testing::scratch_dir() + "/f.tif";
  write_image(opencv_only(), f, path);
  EXPECT_TRUE(read_image(opencv_only(), path).pixels.equal(f.pixels));
}

TEST(OpenCvFormats, BmpAndLosslessWebpRoundTrip) {
  expect_round_trip(".bmp", 3, torch::kUInt8, 256);
  expect_round_trip(".webp", 3, torch::kUInt8, 256);
}

TEST(OpenCvFormats, JpegKeepsSizeAndIsClose) {
  Image smooth;
  smooth.pixels = torch::arange(37 * 53)
                      .reshape({1, 37, 53})
                      .remainder(200)
                      .to(torch::kUInt8)
                      .expand({3, 37, 53})
                      .contiguous();
  const auto path = testing::scratch_dir() + "/a.jpg";
  write_image(opencv_only(), smooth, path);
  const auto back = read_image(opencv_only(), path);
  EXPECT_EQ(back.pixels.sizes(), smooth.pixels.sizes());
  const double err =
      (back.pixels.to(torch::kFloat) - smooth.pixels.to(torch::kFloat)).abs().mean().item<double>();
  EXPECT_LT(err, 8.0);
}

TEST(OpenCvFormats, ColourChannelsAreRgb) {
  Image red;
  red.pixels = torch::zeros({3, 4, 4}, torch::kUInt8);
  red.pixels[0].fill_(255);
  const auto path = testing::scratch_dir() + "/red.png";
  write_image(opencv_only(), red, path);
  const auto back = read_image(opencv_only(), path);
  EXPECT_EQ(back.pixels[0][0][0].item<int>(), 255);
  EXPECT_EQ(back.pixels[2][0][0].item<int>(), 0);
}

TEST(OpenCvFormats, MasksAreWrittenAsClassIds) {
  const auto dir = testing::scratch_dir();
  const auto table = ClassTable::numbered(300);
  auto mask = torch::randint(0, 4, {20, 30}, torch::kInt64);
  write_mask(opencv_only(), mask, table, Image{}, dir + "/m.png");
  const auto back = read_image(opencv_only(), dir + "/m.png");
  EXPECT_EQ(back.pixels.scalar_type(), torch::kUInt8);  // 8-bit while ids fit
  EXPECT_TRUE(back.pixels[0].to(torch::kInt64).equal(mask));
  mask[0][0] = 299;  // more than 256 classes: 16-bit
  write_mask(opencv_only(), mask, table, Image{}, dir + "/m16.png");
  EXPECT_TRUE(read_image(opencv_only(), dir + "/m16.png").pixels[0].to(torch::kInt64).equal(mask));
  testing::expect_error([&] { write_mask(opencv_only(), mask, table, Image{}, dir + "/m.jpg"); },
                        dir + "/m.jpg", "cannot write masks");
}

TEST(OpenCvFormats, EightBitOnlyFormatsRefuseWideValues) {
  const auto path = testing::scratch_dir() + "/wide.jpg";
  testing::expect_error(
      [&] { write_image(opencv_only(), make_image(3, torch::kInt32, 65536), path); }, path,
      "8-bit only");
}

}  // namespace
}  // namespace revup
