#pragma once
// Images written through io for the ui tests (a photo, a georeferenced
// raster, a volume with anisotropic voxels) and a few labels to paint.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QString>

#include <array>
#include <string>

#include "io/format_registry.h"
#include "ui/models/label_editor.h"

namespace revup::testing {

inline const std::array<double, 6> kGeoTransform{500000, 10, 0, 4000000, 0, -10};
inline const char* kUtm33Wkt =
    "PROJCS[\"WGS 84 / UTM zone 33N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS "
    "84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_"
    "meridian\",15],PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],"
    "PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]";

inline void requireGdal() {
  ASSERT_TRUE(REVUP_TEST_HAVE_GDAL) << "built without GDAL (install libgdal-dev)";
  ASSERT_EQ(default_registry().format_for("x.tif").name, "gdal-geotiff")
      << "the GDAL plugin was not loaded from bin/plugins";
}

inline void requireItk() {
  ASSERT_TRUE(REVUP_TEST_HAVE_ITK) << "built without ITK (install libinsighttoolkit5-dev)";
  ASSERT_EQ(default_registry().format_for("x.nii.gz").name, "nifti")
      << "the ITK plugin was not loaded from bin/plugins";
}

// RGB uint8 [3, h, w], every pixel different enough to tell apart.
inline torch::Tensor photoPixels(int64_t h, int64_t w) {
  const auto y = torch::arange(h).view({h, 1}).expand({h, w});
  const auto x = torch::arange(w).view({1, w}).expand({h, w});
  return torch::stack({(x * 4) % 256, (y * 6) % 256, (x * 3 + y * 5) % 256}).to(torch::kUInt8);
}

inline QString writePhoto(const std::string& path, int64_t h, int64_t w) {
  Image image;
  image.pixels = photoPixels(h, w);
  write_image(image, path);
  return QString::fromStdString(path);
}

inline QString writeGeoTiff(const std::string& path, int64_t h, int64_t w) {
  Image image;
  image.pixels = photoPixels(h, w);
  image.geo = GeoReference{kGeoTransform, kUtm33Wkt};
  write_image(image, path);
  return QString::fromStdString(path);
}

// float32 [1, 6, 8, 10] (D, H, W) with value d * 80 + h * 10 + w, voxels
// 0.5 x 0.5 x 2 mm.
inline QString writeVolume(const std::string& path) {
  Image image;
  const auto d = torch::arange(6).view({6, 1, 1}), h = torch::arange(8).view({1, 8, 1}),
             w = torch::arange(10).view({1, 1, 10});
  image.pixels = (d * 80 + h * 10 + w).to(torch::kFloat32).unsqueeze(0).contiguous();
  image.voxels = VoxelGeometry{{0.5, 0.5, 2.0}, {0, 0, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
  write_image(image, path);
  return QString::fromStdString(path);
}

// A stroke of class 1, a dab of class 0, in the current plane.
inline void paintSomething(ui::LabelEditor& labels) {
  const QRect r = labels.planeRect();
  labels.beginStroke(1, 3);
  labels.strokeTo(QPointF(1, 1));
  labels.strokeTo(QPointF(r.width() - 2, r.height() - 2));
  labels.endStroke();
  labels.beginStroke(0, 2);
  labels.strokeTo(QPointF(r.width() - 2, 1));
  labels.endStroke();
}

}  // namespace revup::testing
