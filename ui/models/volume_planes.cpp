#include "ui/models/volume_planes.h"

#include <QPainter>

#include <cmath>

#include "ui/models/display_range.h"
#include "ui/models/image_document.h"
#include "ui/models/label_overlay.h"

namespace revup::ui {
namespace {

// Where increasing index along a tensor axis points: the dominant LPS axis
// (0: left, 1: posterior, 2: superior) and whether it is that axis' + end.
struct Heading {
  int axis = 0;
  bool positive = true;
};

Heading headingOf(const VoxelGeometry& g, int tensorAxis) {
  const int column = 2 - tensorAxis;  // tensor D, H, W = ITK z, y, x
  Heading h;
  double largest = -1;
  for (int row = 0; row < 3; ++row) {
    const double v = g.direction[static_cast<size_t>(row * 3 + column)];
    if (std::abs(v) > largest) {
      largest = std::abs(v);
      h = {row, v > 0};
    }
  }
  return h;
}

QString letter(Heading h) {
  static const char* plus[] = {"L", "P", "S"};
  static const char* minus[] = {"R", "A", "I"};
  return h.positive ? plus[h.axis] : minus[h.axis];
}

// Radiological screen directions: left (L), posterior (P) and inferior (I)
// towards increasing screen x / y, i.e. the + end of L and P, the - end of S.
bool wantsPositiveForward(int lpsAxis) { return lpsAxis != 2; }

}  // namespace

int planeXAxis(int axis) { return axis == 2 ? 1 : 2; }
int planeYAxis(int axis) { return axis == 0 ? 1 : 0; }

PlaneOrientation planeOrientation(const std::optional<VoxelGeometry>& voxels, int axis) {
  PlaneOrientation o;
  const int xAxis = planeXAxis(axis), yAxis = planeYAxis(axis);
  if (!voxels) {
    static const char* names[] = {"D", "H", "W"};
    o.name = QString("Slices along %1").arg(names[axis]);
    return o;
  }
  const auto& spacing = voxels->spacing;  // x, y, z = tensor W, H, D
  o.pixelAspect = spacing[static_cast<size_t>(2 - yAxis)] / spacing[static_cast<size_t>(2 - xAxis)];
  static const char* names[] = {"Sagittal", "Coronal", "Axial"};  // by the fixed axis' LPS axis
  o.name = names[headingOf(*voxels, axis).axis];
  auto x = headingOf(*voxels, xAxis), y = headingOf(*voxels, yAxis);
  o.flipX = x.positive != wantsPositiveForward(x.axis);
  o.flipY = y.positive != wantsPositiveForward(y.axis);
  if (o.flipX) x.positive = !x.positive;
  if (o.flipY) y.positive = !y.positive;
  o.right = letter(x);
  o.left = letter({x.axis, !x.positive});
  o.bottom = letter(y);
  o.top = letter({y.axis, !y.positive});
  return o;
}

QImage planePicture(const ImageDocument& document, int axis, int64_t index,
                    const torch::Tensor& prediction, double opacity) {
  const Image& volume = document.image();
  QImage picture =
      toQImage(volume.pixels.select(axis + 1, index), document.displayRange(), volume.nodata)
          .convertToFormat(QImage::Format_ARGB32_Premultiplied);
  QPainter painter(&picture);
  QImage overlay(picture.size(), QImage::Format_ARGB32_Premultiplied);
  const auto draw = [&](const torch::Tensor& ids, const ColorLut& colors) {
    overlay.fill(Qt::transparent);
    renderOverlay(overlay, overlay.rect(), labelPlane(ids, axis, index), {0, 0}, 1, 1, colors);
    painter.drawImage(0, 0, overlay);
  };
  // As the main view draws them: the prediction under the labels, background clear.
  if (prediction.defined()) {
    draw(prediction, overlayColors(document.classes(), opacity, BackgroundTint::Clear));
  }
  draw(document.labels().labels(), overlayColors(document.classes(), opacity));
  return picture;
}

}  // namespace revup::ui
