#include "ui/models/label_overlay.h"

#include <QString>

#include <algorithm>
#include <cmath>
#include <vector>

namespace revup::ui {

int64_t backgroundClass(const ClassTable& classes) {
  for (int64_t i = 0; i < classes.size(); ++i) {
    const QString name = QString::fromStdString(classes.classes[i].name);
    if (name.compare("background", Qt::CaseInsensitive) == 0 ||
        name.compare("_background_", Qt::CaseInsensitive) == 0) {
      return i;
    }
  }
  return -1;
}

ColorLut overlayColors(const ClassTable& classes, double opacity, BackgroundTint background) {
  ColorLut lut{};
  lut.fill(0);
  const int alpha = static_cast<int>(std::lround(std::clamp(opacity, 0.0, 1.0) * 255));
  const int64_t clear = background == BackgroundTint::Clear ? backgroundClass(classes) : -1;
  for (int64_t i = 0; i < std::min<int64_t>(classes.size(), kUnlabelled); ++i) {
    if (i == clear) continue;
    const auto& c = classes.classes[i].color;
    lut[i] = qPremultiply(qRgba(c[0], c[1], c[2], alpha));
  }
  return lut;
}

void renderOverlay(QImage& out, const QRect& target, const LabelPlane& plane, QPointF offset,
                   double scaleX, double scaleY, const ColorLut& colors) {
  // Which plane column / row each target column / row shows (-1: none).
  std::vector<int> columns(target.width()), rows(target.height());
  for (int i = 0; i < target.width(); ++i) {
    const int x = static_cast<int>(std::floor((target.x() + i + 0.5 - offset.x()) / scaleX));
    columns[i] = x >= 0 && x < plane.width ? x : -1;
  }
  for (int j = 0; j < target.height(); ++j) {
    const int y = static_cast<int>(std::floor((target.y() + j + 0.5 - offset.y()) / scaleY));
    rows[j] = y >= 0 && y < plane.height ? y : -1;
  }
  for (int j = 0; j < target.height(); ++j) {
    auto* line = reinterpret_cast<QRgb*>(out.scanLine(j));
    if (rows[j] < 0) {
      std::fill(line, line + target.width(), 0);
      continue;
    }
    const uint8_t* row = plane.data + rows[j] * plane.strideY;
    for (int i = 0; i < target.width(); ++i) {
      line[i] = columns[i] < 0 ? 0 : colors[row[columns[i] * plane.strideX]];
    }
  }
}

}  // namespace revup::ui
