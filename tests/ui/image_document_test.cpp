// ImageDocument: opening each kind of image, rendering regions, cursor
// coordinates, label files in each format.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QFileInfo>

#include "io/format_registry.h"
#include "tests/io/test_files.h"
#include "tests/ui/ui_test_util.h"
#include "ui/models/image_document.h"
#include "ui/models/label_files.h"

namespace revup::ui {
namespace {

TEST(ImageDocument, OpensAPngPhotoAndRendersRegionsExactly) {
  const auto path = testing::writePhoto(testing::scratch_dir() + "/photo.png", 40, 60);
  const auto doc = ImageDocument::open(path);
  EXPECT_EQ(doc->kind(), ImageKind::Photo);
  EXPECT_FALSE(doc->isVolume());
  EXPECT_FALSE(doc->isTiled());
  EXPECT_EQ(doc->info().width, 60);
  EXPECT_EQ(doc->info().height, 40);
  EXPECT_EQ(doc->planeSize(), QSize(60, 40));
  EXPECT_EQ(doc->image().pixels.sizes(), (std::vector<int64_t>{3, 40, 60}));
  EXPECT_TRUE(doc->description().contains("60 x 40, 3 channels, uint8, photo"))
      << doc->description().toStdString();
  // A 20x10 region at 1:1 is the image's pixels there.
  const QImage region = doc->render(QRectF(10, 5, 20, 10), QSize(20, 10));
  const auto pixels = read_image(path.toStdString()).pixels;
  for (auto [x, y] : std::vector<std::pair<int, int>>{{0, 0}, {19, 9}, {7, 3}}) {
    const QRgb c = region.pixel(x, y);
    EXPECT_EQ(qRed(c), pixels[0][5 + y][10 + x].item<int>());
    EXPECT_EQ(qGreen(c), pixels[1][5 + y][10 + x].item<int>());
    EXPECT_EQ(qBlue(c), pixels[2][5 + y][10 + x].item<int>());
  }
  // Zoomed in 4x: each image pixel is a 4x4 block.
  const QImage zoomed = doc->render(QRectF(10, 5, 5, 5), QSize(20, 20));
  EXPECT_EQ(zoomed.pixel(0, 0), zoomed.pixel(3, 3));
  EXPECT_EQ(qRed(zoomed.pixel(4, 0)), pixels[0][5][11].item<int>());
  // Labels start unlabelled, with background and one class.
  EXPECT_EQ(doc->trainingLabels().sizes(), (std::vector<int64_t>{40, 60}));
  EXPECT_EQ(doc->trainingLabels().scalar_type(), torch::kInt64);
  EXPECT_TRUE(doc->trainingLabels().eq(255).all().item<bool>());
  EXPECT_EQ(doc->classes().size(), 2);
  EXPECT_EQ(doc->classes().classes[0].name, "background");
  EXPECT_TRUE(doc->coordinateText(QPointF(3.5, 2.5)).startsWith("x 3, y 2 · value "));
  EXPECT_TRUE(doc->coordinateText(QPointF(-1, 2)).isEmpty());
}

TEST(ImageDocument, SixteenBitPhotosAreStretchedForDisplay) {
  Image image;
  image.pixels = (torch::arange(0, 64 * 64, torch::kInt32) * 10).reshape({1, 64, 64});
  const auto path = testing::scratch_dir() + "/sixteen.png";
  write_image(image, path);
  const auto doc = ImageDocument::open(QString::fromStdString(path));
  EXPECT_EQ(doc->info().dtype, torch::kInt32);
  const QImage all = doc->render(QRectF(0, 0, 64, 64), QSize(64, 64));
  EXPECT_EQ(qGray(all.pixel(0, 0)), 0);  // below the 2 % percentile
  EXPECT_EQ(qGray(all.pixel(63, 63)), 255);
  EXPECT_NEAR(qGray(all.pixel(32, 32)), 128, 8);
}

TEST(ImageDocument, GeoTiffShowsCrsCoordinates) {
  testing::requireGdal();
  const auto path = testing::writeGeoTiff(testing::scratch_dir() + "/scene.tif", 40, 50);
  const auto doc = ImageDocument::open(path);
  EXPECT_EQ(doc->kind(), ImageKind::Raster);
  EXPECT_FALSE(doc->isTiled());
  // Pixel (10.5, 20.5): x = 500000 + 10.5 * 10, y = 4000000 - 20.5 * 10.
  const QString text = doc->coordinateText(QPointF(10.5, 20.5));
  EXPECT_TRUE(text.startsWith("x 10, y 20")) << text.toStdString();
  EXPECT_TRUE(text.contains("X 500105.00, Y 3999795.00")) << text.toStdString();
  EXPECT_TRUE(text.contains("UTM zone 33N")) << text.toStdString();
  EXPECT_TRUE(doc->description().contains("raster")) << doc->description().toStdString();
}

TEST(ImageDocument, OpensANiftiVolumeWithSlicesAndWindowLevel) {
  testing::requireItk();
  const auto path = testing::writeVolume(testing::scratch_dir() + "/head.nii.gz");
  const auto doc = ImageDocument::open(path);
  EXPECT_EQ(doc->kind(), ImageKind::Volume);
  EXPECT_TRUE(doc->isVolume());
  EXPECT_EQ(doc->image().pixels.sizes(), (std::vector<int64_t>{1, 6, 8, 10}));
  EXPECT_EQ(doc->trainingLabels().sizes(), (std::vector<int64_t>{6, 8, 10}));
  EXPECT_EQ(doc->sliceAxis(), 0);
  EXPECT_EQ(doc->sliceIndex(), 3);  // the middle
  EXPECT_EQ(doc->planeSize(), QSize(10, 8));
  EXPECT_DOUBLE_EQ(doc->pixelAspect(), 1.0);
  EXPECT_TRUE(doc->description().contains("spacing 0.5 x 0.5 x 2 mm"))
      << doc->description().toStdString();
  // The [D, H] plane at w = 4: pixels twice... four times as tall as wide.
  doc->setSlice(2, 4);
  EXPECT_EQ(doc->planeSize(), QSize(8, 6));
  EXPECT_DOUBLE_EQ(doc->pixelAspect(), 4.0);
  // Float values: the default window comes from the 1-99 % percentiles, and
  // brighter voxels look brighter.
  const auto range = doc->displayRange();
  EXPECT_GT(range.low, -1);
  EXPECT_LT(range.high, 480);
  const QImage slice = doc->render(QRectF(0, 0, 8, 6), QSize(8, 6));
  EXPECT_LT(qGray(slice.pixel(0, 0)), qGray(slice.pixel(7, 5)));
  // A narrow window saturates.
  doc->setDisplayRange(DisplayRange::fromWindowLevel(1, 0));
  EXPECT_EQ(qGray(doc->render(QRectF(0, 0, 8, 6), QSize(8, 6)).pixel(7, 5)), 255);
  const QString text = doc->coordinateText(QPointF(2.5, 1.5));  // h = 2, d = 1, w = 4
  EXPECT_TRUE(text.contains("x 2, y 1, slice 4")) << text.toStdString();
  EXPECT_TRUE(text.contains("(2.00, 1.00, 2.00) mm")) << text.toStdString();
}

TEST(ImageDocument, PhotoLabelsSaveAsPngBesideTheImageAndReload) {
  const auto dir = testing::scratch_dir();
  const auto path = testing::writePhoto(dir + "/street.png", 30, 40);
  auto doc = ImageDocument::open(path);
  doc->renameClass(1, "road");
  doc->addClass("car");
  testing::paintSomething(doc->labels());
  const auto painted = doc->trainingLabels();
  doc->saveLabels();
  EXPECT_EQ(doc->labelsFile(), QString::fromStdString(dir + "/street.labels.png"));
  EXPECT_TRUE(QFileInfo::exists(QString::fromStdString(dir + "/street.classes.json")));
  const auto again = ImageDocument::open(path);  // finds street.labels.png itself
  EXPECT_EQ(again->labelsFile(), doc->labelsFile());
  EXPECT_TRUE(again->trainingLabels().equal(painted));
  ASSERT_EQ(again->classes().size(), 3);
  EXPECT_EQ(again->classes().classes[1].name, "road");
  EXPECT_EQ(again->classes().classes[2].name, "car");
}

TEST(ImageDocument, RasterLabelsSaveAsGeoTiffWithTheGeotransform) {
  testing::requireGdal();
  const auto dir = testing::scratch_dir();
  const auto path = testing::writeGeoTiff(dir + "/field.tif", 40, 50);
  auto doc = ImageDocument::open(path);
  testing::paintSomething(doc->labels());
  doc->saveLabels();
  EXPECT_EQ(doc->labelsFile(), QString::fromStdString(dir + "/field.labels.tif"));
  const Image mask = read_image(dir + "/field.labels.tif");
  ASSERT_TRUE(mask.geo.has_value());
  EXPECT_EQ(mask.geo->transform, testing::kGeoTransform);
  EXPECT_EQ(mask.geo->crs_wkt, read_image(path.toStdString()).geo->crs_wkt);
  EXPECT_TRUE(ImageDocument::open(path)->trainingLabels().equal(doc->trainingLabels()));
}

TEST(ImageDocument, VolumeLabelsSaveAsNiftiWithTheSpacing) {
  testing::requireItk();
  const auto dir = testing::scratch_dir();
  const auto path = testing::writeVolume(dir + "/head.nii.gz");
  auto doc = ImageDocument::open(path);
  doc->setSlice(1, 2);
  testing::paintSomething(doc->labels());
  doc->setSlice(0, 5);
  testing::paintSomething(doc->labels());
  doc->saveLabels();
  EXPECT_EQ(doc->labelsFile(), QString::fromStdString(dir + "/head.labels.nii.gz"));
  const Image mask = read_image(dir + "/head.labels.nii.gz");
  ASSERT_TRUE(mask.voxels.has_value());
  EXPECT_EQ(mask.voxels->spacing, (std::array<double, 3>{0.5, 0.5, 2.0}));
  EXPECT_EQ(mask.voxels->origin, (std::array<double, 3>{0, 0, 0}));
  const auto again = ImageDocument::open(path);
  EXPECT_TRUE(again->trainingLabels().equal(doc->trainingLabels()));
  EXPECT_GT(again->trainingLabels().ne(255).sum().item<int64_t>(), 10);
}

TEST(ImageDocument, LabelsOfAnotherSizeAreRefusedNamingTheFile) {
  const auto dir = testing::scratch_dir();
  auto doc = ImageDocument::open(testing::writePhoto(dir + "/a.png", 30, 40));
  testing::paintSomething(doc->labels());
  const auto before = doc->trainingLabels();
  Image small;
  small.pixels = torch::zeros({1, 10, 10}, torch::kUInt8);
  write_image(small, dir + "/small.png");
  testing::expect_error([&] { doc->loadLabels(QString::fromStdString(dir + "/small.png")); },
                        dir + "/small.png", "do not match the image's [30, 40]");
  EXPECT_TRUE(doc->trainingLabels().equal(before));
  // A broken labels file beside an image: the image opens, the problem is kept.
  testing::write_file(dir + "/b.labels.png", "not a png");
  const auto b = ImageDocument::open(testing::writePhoto(dir + "/b.png", 30, 40));
  EXPECT_TRUE(b->labelsWarning().contains("b.labels.png")) << b->labelsWarning().toStdString();
  EXPECT_TRUE(b->labelsFile().isEmpty());
}

TEST(ImageDocument, LabelStemsHandleDoubleExtensions) {
  EXPECT_EQ(imageStem("/d/ch2.nii.gz"), "ch2");
  EXPECT_EQ(imageStem("/d/a.b.png"), "a.b");
  EXPECT_EQ(labelsPathFor("/d/ch2.nii.gz", ".nii.gz"), "/d/ch2.labels.nii.gz");
  EXPECT_EQ(classesPathFor("/d/ch2.labels.nii.gz"), "/d/ch2.classes.json");
}

}  // namespace
}  // namespace revup::ui
