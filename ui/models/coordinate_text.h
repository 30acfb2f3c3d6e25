#pragma once
// Where the cursor is, in words for the status bar: the pixel, and the
// position in the raster's CRS (through the geotransform) or in a volume's
// physical space (through spacing, origin and direction).
#include <QPointF>
#include <QString>

#include <array>
#include <string>

#include "io/image.h"

namespace revup::ui {

// The CRS's own name from its WKT (the first quoted name: "WGS 84 / UTM
// zone 33N"); "" when none.
QString crsName(const std::string& wkt);

// "X 500105.00, Y 3999795.00 (WGS 84 / UTM zone 33N)" at a continuous pixel
// position (0, 0 is the top-left corner of the top-left pixel); degrees get
// six decimals and are called lon/lat.
QString geoCoordinateText(const GeoReference& geo, QPointF pixel);

// "(12.50, -3.00, 40.00) mm" for a voxel index in ITK order (x, y, z).
QString physicalCoordinateText(const VoxelGeometry& voxels, const std::array<double, 3>& index);

}  // namespace revup::ui
