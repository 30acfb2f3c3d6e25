#include "ui/models/coordinate_text.h"

#include <cmath>

namespace revup::ui {

QString crsName(const std::string& wkt) {
  const auto open = wkt.find("[\"");
  if (open == std::string::npos) return {};
  const auto close = wkt.find('"', open + 2);
  if (close == std::string::npos) return {};
  return QString::fromStdString(wkt.substr(open + 2, close - open - 2));
}

QString geoCoordinateText(const GeoReference& geo, QPointF pixel) {
  const auto& t = geo.transform;
  const double x = t[0] + pixel.x() * t[1] + pixel.y() * t[2];
  const double y = t[3] + pixel.x() * t[4] + pixel.y() * t[5];
  const bool geographic = geo.crs_wkt.rfind("GEOG", 0) == 0;
  const int decimals = geographic || std::abs(t[1]) < 0.01 ? 6 : 2;
  QString text = QString("%1 %2, %3 %4")
                     .arg(geographic ? "lon" : "X")
                     .arg(x, 0, 'f', decimals)
                     .arg(geographic ? "lat" : "Y")
                     .arg(y, 0, 'f', decimals);
  const QString name = crsName(geo.crs_wkt);
  if (!name.isEmpty()) text += " (" + name + ")";
  return text;
}

QString physicalCoordinateText(const VoxelGeometry& v, const std::array<double, 3>& index) {
  std::array<double, 3> p{};
  for (int r = 0; r < 3; ++r) {
    p[r] = v.origin[r];
    for (int c = 0; c < 3; ++c) p[r] += v.direction[r * 3 + c] * v.spacing[c] * index[c];
  }
  return QString("(%1, %2, %3) mm").arg(p[0], 0, 'f', 2).arg(p[1], 0, 'f', 2).arg(p[2], 0, 'f', 2);
}

}  // namespace revup::ui
