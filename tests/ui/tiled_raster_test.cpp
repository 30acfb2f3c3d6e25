// A 6000x6000 GeoTIFF (with overviews, DEFLATE) opens and is shown without
// reading more than the screen shows: counted in decoded pixels, not seconds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QElapsedTimer>

#include <filesystem>

#include "io/format_registry.h"
#include "tests/io/test_files.h"
#include "tests/ui/ui_test_util.h"
#include "ui/models/image_document.h"

namespace revup::ui {
namespace {

constexpr int64_t kSide = 6000;

// One band, steps with a checkerboard on top: compresses to about a megabyte.
std::string writeBigRaster(const std::string& dir) {
  Image image;
  const auto y = torch::arange(kSide, torch::kInt32).view({kSide, 1});
  const auto x = torch::arange(kSide, torch::kInt32).view({1, kSide});
  auto steps = [](const torch::Tensor& t, int64_t size) { return t.div(size, "floor"); };
  const auto board = (steps(x, 500) + steps(y, 500)).remainder(2) * 100;
  image.pixels = (steps(x, 50) + steps(y, 50) + board)
                     .remainder(256)
                     .to(torch::kUInt8)
                     .unsqueeze(0)
                     .contiguous();
  image.geo = GeoReference{testing::kGeoTransform, testing::kUtm33Wkt};
  const auto path = dir + "/big.tif";
  write_image(image, path);
  return path;
}

TEST(TiledRaster, A6000SquareGeoTiffIsShownFromOverviewsAndVisibleTiles) {
  testing::requireGdal();
  const auto path = writeBigRaster(testing::scratch_dir());
  std::printf("6000x6000 GeoTIFF on disk: %.1f MB, %d overviews\n",
              std::filesystem::file_size(path) / 1e6, read_image_info(path).overview_count);
  ASSERT_GE(read_image_info(path).overview_count, 4);
  const int64_t full = kSide * kSide;

  QElapsedTimer timer;
  timer.start();
  const auto doc = ImageDocument::open(QString::fromStdString(path));
  ASSERT_TRUE(doc->isTiled());
  EXPECT_EQ(doc->kind(), ImageKind::Raster);
  EXPECT_EQ(doc->planeSize(), QSize(kSide, kSide));
  // Opening reads the thumbnail only (the whole raster at 1024 px) and a
  // 1x1 window for the metadata.
  const int64_t atOpen = doc->tiles().decodedPixels();
  EXPECT_LE(atOpen, 1024 * 1024 + 1);

  // Fit to an 800x800 window: the thumbnail is sharp enough, no tile read.
  const QImage fit = doc->render(QRectF(0, 0, kSide, kSide), QSize(800, 800));
  const double openAndFitMs = timer.elapsed();
  EXPECT_EQ(doc->tiles().tilesRead(), 0);
  EXPECT_EQ(doc->tiles().decodedPixels(), atOpen);
  // The checkerboard shows: (250, 250) in the image is dark (10), (750, 250)
  // bright (120).
  const int dark = qGray(fit.pixel(250 * 800 / kSide, 250 * 800 / kSide));
  const int bright = qGray(fit.pixel(750 * 800 / kSide, 250 * 800 / kSide));
  EXPECT_GT(bright - dark, 60) << dark << " vs " << bright;

  // A quarter-scale view of a 4000x4000 region: tiles of the 4x level only.
  doc->render(QRectF(1000, 1000, 4000, 4000), QSize(1000, 1000));
  const int64_t quarterTiles = doc->tiles().tilesRead();
  const int64_t quarterPixels = doc->tiles().decodedPixels() - atOpen;
  EXPECT_LE(quarterTiles, 25);
  EXPECT_LE(quarterPixels, 25 * 256 * 256);  // vs 16 M pixels at full resolution

  // 1:1 at the centre: the visible full-resolution tiles, exact pixels.
  const QImage detail = doc->render(QRectF(3000, 3000, 512, 384), QSize(512, 384));
  const int64_t detailTiles = doc->tiles().tilesRead() - quarterTiles;
  EXPECT_LE(detailTiles, 9);
  const auto truth = read_image_window(path, Window{3000, 3000, 512, 384}).pixels[0];
  for (auto [x, y] : std::vector<std::pair<int, int>>{{0, 0}, {511, 383}, {100, 200}, {300, 17}}) {
    EXPECT_EQ(qGray(detail.pixel(x, y)), truth[y][x].item<int>()) << x << ", " << y;
  }
  // Drawing the same view again reads nothing (the tile cache).
  const int64_t before = doc->tiles().decodedPixels();
  doc->render(QRectF(3000, 3000, 512, 384), QSize(512, 384));
  EXPECT_EQ(doc->tiles().decodedPixels(), before);

  const int64_t decoded = doc->tiles().decodedPixels();
  std::printf(
      "open + fit view: %.0f ms, %lld pixels decoded (%.2f %% of the raster); quarter-scale "
      "4000x4000 view: %lld tiles, %lld pixels; 1:1 512x384 view: %lld tiles; total "
      "%lld pixels (%.1f %%)\n",
      openAndFitMs, static_cast<long long>(atOpen), 100.0 * atOpen / full,
      static_cast<long long>(quarterTiles), static_cast<long long>(quarterPixels),
      static_cast<long long>(detailTiles), static_cast<long long>(decoded), 100.0 * decoded / full);
  EXPECT_LT(decoded, full / 10);

  // Labels cover the full raster; the geotransform is the file's.
  EXPECT_EQ(doc->trainingLabels().sizes(), (std::vector<int64_t>{kSide, kSide}));
  EXPECT_TRUE(doc->coordinateText(QPointF(10.5, 20.5)).contains("X 500105.00, Y 3999795.00"));
}

}  // namespace
}  // namespace revup::ui
