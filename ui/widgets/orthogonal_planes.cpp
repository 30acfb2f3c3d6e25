#include "ui/widgets/orthogonal_planes.h"

#include <QMouseEvent>
#include <QPainter>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "ui/models/image_document.h"

namespace revup::ui {

// One plane: its picture scaled to fit (keeping the voxels' aspect), the
// crosshair, the patient directions at the edges and the plane's name.
class PlaneView : public QWidget {
 public:
  PlaneView(int axis, OrthogonalPlanes* planes) : QWidget(planes), axis_(axis), planes_(planes) {
    setMinimumSize(160, 140);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setMouseTracking(false);
    setToolTip(tr("Click or drag: move the crosshair. Double-click: paint in this plane."));
  }

  void show(QImage picture, const PlaneOrientation& orientation, int64_t slice, int64_t slices,
            bool edited) {
    picture_ = picture.mirrored(orientation.flipX, orientation.flipY);
    orientation_ = orientation;
    slice_ = slice;
    slices_ = slices;
    edited_ = edited;
    update();
  }
  void clear() {
    picture_ = {};
    update();
  }

  // Screen position of voxel column / row (x, y) of the plane, and back.
  QPointF toScreen(double x, double y) const {
    const QRectF r = pictureRect();
    const double w = picture_.width(), h = picture_.height();
    if (orientation_.flipX) x = w - x;
    if (orientation_.flipY) y = h - y;
    return {r.left() + x / w * r.width(), r.top() + y / h * r.height()};
  }
  QPoint toVoxel(QPointF p) const {
    const QRectF r = pictureRect();
    double x = (p.x() - r.left()) / r.width() * picture_.width();
    double y = (p.y() - r.top()) / r.height() * picture_.height();
    if (orientation_.flipX) x = picture_.width() - x;
    if (orientation_.flipY) y = picture_.height() - y;
    return {std::clamp(static_cast<int>(std::floor(x)), 0, picture_.width() - 1),
            std::clamp(static_cast<int>(std::floor(y)), 0, picture_.height() - 1)};
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), Qt::black);
    if (picture_.isNull()) return;
    const QRectF r = pictureRect();
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(r, picture_);
    const auto& c = planes_->crosshair();
    const QPointF at = toScreen(c[static_cast<size_t>(planeXAxis(axis_))] + 0.5,
                                c[static_cast<size_t>(planeYAxis(axis_))] + 0.5);
    p.setPen(QPen(QColor(255, 220, 0, 200), 1));
    p.drawLine(QPointF(r.left(), at.y()), QPointF(r.right(), at.y()));
    p.drawLine(QPointF(at.x(), r.top()), QPointF(at.x(), r.bottom()));

    QFont font = p.font();
    font.setBold(true);
    p.setFont(font);
    const int m = 4;
    const QRect area = rect().adjusted(m, m, -m, -m);
    p.setPen(Qt::white);
    p.drawText(area, Qt::AlignTop | Qt::AlignLeft,
               tr("%1 · slice %2 (0–%3)").arg(orientation_.name).arg(slice_).arg(slices_ - 1));
    p.setPen(QColor(120, 200, 255));
    const QRect edges = r.toAlignedRect().adjusted(m, m, -m, -m);
    p.drawText(edges, Qt::AlignVCenter | Qt::AlignLeft, orientation_.left);
    p.drawText(edges, Qt::AlignVCenter | Qt::AlignRight, orientation_.right);
    p.drawText(edges, Qt::AlignTop | Qt::AlignHCenter, orientation_.top);
    p.drawText(edges, Qt::AlignBottom | Qt::AlignHCenter, orientation_.bottom);
    if (edited_) {
      p.setPen(QPen(QColor(255, 220, 0), 2));
      p.drawRect(rect().adjusted(1, 1, -1, -1));
    }
  }
  void mousePressEvent(QMouseEvent* e) override { moveTo(e); }
  void mouseMoveEvent(QMouseEvent* e) override {
    if (e->buttons() & Qt::LeftButton) moveTo(e);
  }
  void mouseDoubleClickEvent(QMouseEvent* e) override {
    if (e->button() == Qt::LeftButton && !picture_.isNull())
      Q_EMIT planes_->editPlaneRequested(axis_);
  }

 private:
  QRectF pictureRect() const {
    const double w = picture_.width(), h = picture_.height() * orientation_.pixelAspect;
    const double scale = std::min(width() / w, height() / h);
    const QSizeF size(w * scale, h * scale);
    return {QPointF((width() - size.width()) / 2, (height() - size.height()) / 2), size};
  }
  void moveTo(QMouseEvent* e) {
    if (picture_.isNull() || !(e->buttons() & Qt::LeftButton)) return;
    const QPoint v = toVoxel(e->position());
    planes_->moveCrosshairFrom(axis_, v.x(), v.y());
  }

  int axis_;
  OrthogonalPlanes* planes_;
  QImage picture_;
  PlaneOrientation orientation_;
  int64_t slice_ = 0, slices_ = 0;
  bool edited_ = false;
};

OrthogonalPlanes::OrthogonalPlanes(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  // Axial first where the geometry says which is which; voxel order otherwise.
  for (int axis = 0; axis < 3; ++axis) {
    views_[static_cast<size_t>(axis)] = new PlaneView(axis, this);
    views_[static_cast<size_t>(axis)]->setObjectName(QString("planeView%1").arg(axis));
    layout->addWidget(views_[static_cast<size_t>(axis)]);
  }
}

void OrthogonalPlanes::setDocument(ImageDocument* document) {
  document_ = document && document->isVolume() ? document : nullptr;
  prediction_ = torch::Tensor();
  if (!document_) {
    for (auto* v : views_) v->clear();
    return;
  }
  for (int a = 0; a < 3; ++a) crosshair_[static_cast<size_t>(a)] = document_->sliceCount(a) / 2;
  syncWithDocument();
}

PlaneOrientation OrthogonalPlanes::orientation(int axis) const {
  return planeOrientation(document_ ? document_->image().voxels : std::nullopt, axis);
}

void OrthogonalPlanes::setCrosshair(const VoxelIndex& voxel) {
  if (!document_) return;
  for (int a = 0; a < 3; ++a) {
    crosshair_[static_cast<size_t>(a)] =
        std::clamp<int64_t>(voxel[static_cast<size_t>(a)], 0, document_->sliceCount(a) - 1);
  }
  redraw();
}

void OrthogonalPlanes::syncWithDocument() {
  if (!document_) return;
  crosshair_[static_cast<size_t>(document_->sliceAxis())] = document_->sliceIndex();
  redraw();
}

void OrthogonalPlanes::setPrediction(const torch::Tensor& classIds) {
  prediction_ = classIds.defined() ? classIds.to(torch::kUInt8).contiguous() : torch::Tensor();
  redraw();
}

void OrthogonalPlanes::moveCrosshairFrom(int axis, int64_t x, int64_t y) {
  auto moved = crosshair_;
  moved[static_cast<size_t>(planeXAxis(axis))] = x;
  moved[static_cast<size_t>(planeYAxis(axis))] = y;
  if (moved == crosshair_) return;
  setCrosshair(moved);
  Q_EMIT crosshairMoved(crosshair_);
}

void OrthogonalPlanes::redraw() {
  if (!document_) return;
  // A prediction of another volume (the user opened a new one) is not drawn.
  const auto& shape = document_->image().pixels.sizes();
  const bool predictionFits = prediction_.defined() && prediction_.sizes() == shape.slice(1);
  for (int a = 0; a < 3; ++a) {
    const auto index = crosshair_[static_cast<size_t>(a)];
    views_[static_cast<size_t>(a)]->show(
        planePicture(*document_, a, index, predictionFits ? prediction_ : torch::Tensor(), 0.5),
        orientation(a), index, document_->sliceCount(a), a == document_->sliceAxis());
  }
}

}  // namespace revup::ui
