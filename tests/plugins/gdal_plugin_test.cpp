// The GDAL plugin, through the default registry (it loads <bin>/plugins).
#include <gtest/gtest.h>

#include "io/format_registry.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

void require_gdal() {
  ASSERT_TRUE(REVUP_TEST_HAVE_GDAL) << "built without GDAL (install libgdal-dev): cannot test";
  ASSERT_EQ(default_registry().format_for("x.tif").name, "gdal-geotiff")
      << "the GDAL plugin was not loaded";
}

TEST(GdalPlugin, ReadsTheLandsatSceneWithBandsAndUtmCrs) {
  require_gdal();
  const auto path = testing::landsat_tif();
  ASSERT_FALSE(path.empty());
  const auto image = read_image(path);
  EXPECT_EQ(image.channels(), 6);
  EXPECT_EQ(image.height(), 352);
  EXPECT_EQ(image.width(), 349);
  EXPECT_EQ(image.pixels.scalar_type(), torch::kUInt8);
  ASSERT_TRUE(image.geo.has_value());
  EXPECT_NE(image.geo->crs_wkt.find("UTM"), std::string::npos) << image.geo->crs_wkt;
  EXPECT_NEAR(image.geo->transform[1], 28.5, 1e-6);  // 28.5 m pixels
  EXPECT_NEAR(image.geo->transform[5], -28.5, 1e-6);
  EXPECT_NEAR(image.geo->transform[0], 288776.25, 1e-3);
  EXPECT_GT(image.pixels.to(torch::kFloat).std().item<double>(), 1.0);
  const auto info = read_image_info(path);
  EXPECT_EQ(info.channels, 6);
  EXPECT_EQ(info.width, 349);
}

TEST(GdalPlugin, MaskGeoTiffKeepsGeotransformAndCrs) {
  require_gdal();
  const auto path = testing::landsat_tif();
  ASSERT_FALSE(path.empty());
  const auto image = read_image(path);
  // A "mask": band 4 (near infrared) thresholded, plus an ignored corner.
  auto mask = image.pixels[3].to(torch::kInt64).gt(60).to(torch::kInt64);
  mask.slice(0, 0, 10).slice(1, 0, 10).fill_(255);
  const auto table = ClassTable::from_names({"other", "vegetation"});
  const auto out = testing::scratch_dir() + "/mask.tif";
  write_mask(mask, table, image, out);
  const auto back = read_image(out);
  EXPECT_EQ(back.channels(), 1);
  EXPECT_TRUE(back.pixels[0].to(torch::kInt64).equal(mask));
  ASSERT_TRUE(back.geo.has_value());
  EXPECT_EQ(back.geo->transform, image.geo->transform);
  EXPECT_EQ(back.geo->crs_wkt, image.geo->crs_wkt);
  ASSERT_TRUE(back.nodata.has_value());
  EXPECT_EQ(*back.nodata, 255.0);
}

TEST(GdalPlugin, MultiBandImagesRoundTripWithNodataAndNames) {
  require_gdal();
  Image image;
  image.pixels = torch::randint(0, 65536, {3, 40, 30}, torch::kInt64).to(torch::kInt32);
  image.nodata = 0;
  image.band_names = {"red", "green", "nir"};
  image.geo = GeoReference{{500000, 10, 0, 4000000, 0, -10}, ""};
  const auto out = testing::scratch_dir() + "/img.tif";
  write_image(image, out);
  const auto back = read_image(out);
  EXPECT_TRUE(back.pixels.equal(image.pixels));
  EXPECT_EQ(back.band_names, image.band_names);
  EXPECT_EQ(back.nodata, image.nodata);
  EXPECT_EQ(back.geo->transform, image.geo->transform);
}

TEST(GdalPlugin, WindowsAreReadAndAveragedWithTheirOwnGeotransform) {
  require_gdal();
  const auto path = testing::landsat_tif();
  ASSERT_FALSE(path.empty());
  const auto image = read_image(path);
  const auto crop = image.pixels.slice(1, 50, 82).slice(2, 100, 164);
  // At full resolution a window is exactly the crop.
  EXPECT_TRUE(read_image_window(path, Window{100, 50, 64, 32}).pixels.equal(crop));
  // Smaller: the file's overviews (this one has 4) are averaged from, so the
  // values are the region's but not exactly a box filter of the full image.
  EXPECT_EQ(read_image_info(path).overview_count, 4);
  const auto w = read_image_window(path, Window{100, 50, 64, 32, 16, 8});
  EXPECT_EQ(w.pixels.sizes(), (std::vector<int64_t>{6, 8, 16}));
  const auto region_mean = crop.to(torch::kFloat).mean({1, 2});
  const auto window_mean = w.pixels.to(torch::kFloat).mean({1, 2});
  EXPECT_LT(((window_mean - region_mean).abs() / region_mean).max().item<double>(), 0.15)
      << window_mean << region_mean;
  const auto& t = image.geo->transform;
  EXPECT_DOUBLE_EQ(w.geo->transform[0], t[0] + 100 * t[1]);
  EXPECT_DOUBLE_EQ(w.geo->transform[3], t[3] + 50 * t[5]);
  EXPECT_DOUBLE_EQ(w.geo->transform[1], 4 * t[1]);
  testing::expect_error(
      [&] {
        read_image_window(path, Window{300, 0, 100, 10});
      },
      path, "window outside");
}

TEST(GdalPlugin, LargeWritesGetOverviews) {
  require_gdal();
  Image image;
  image.pixels = torch::randint(0, 256, {1, 600, 1100}, torch::kInt64).to(torch::kUInt8);
  const auto dir = testing::scratch_dir();
  write_image(image, dir + "/big.tif");
  EXPECT_EQ(read_image_info(dir + "/big.tif").overview_count, 2);  // 2x and 4x
  write_mask(image.pixels[0].remainder(3), ClassTable::numbered(3), image, dir + "/big_mask.tif");
  EXPECT_EQ(read_image_info(dir + "/big_mask.tif").overview_count, 2);
  EXPECT_TRUE(read_image(dir + "/big_mask.tif").pixels[0].equal(image.pixels[0].remainder(3)));
}

TEST(GdalPlugin, CorruptGeoTiffNamesTheFile) {
  require_gdal();
  const auto path = testing::landsat_tif();
  ASSERT_FALSE(path.empty());
  const auto bytes = testing::read_file(path);
  const auto cut = testing::write_file(testing::scratch_dir() + "/cut.tif", bytes.substr(0, 5000));
  EXPECT_THROW(read_image(cut), std::runtime_error);
  testing::expect_error([&] { read_image(cut); }, cut, "");
}

}  // namespace
}  // namespace revup
