#include "ui/widgets/image_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QTimer>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

#include "ui/models/image_document.h"

namespace revup::ui {

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  setObjectName("imageView");
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setAcceptDrops(false);  // the main window takes dropped files
  setMinimumSize(200, 150);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

void ImageView::setDocument(ImageDocument* document) {
  document_ = document;
  prediction_ = torch::Tensor();
  crosshair_.reset();
  painting_ = false;
  shownPlane_ = {};
  updateColors();
  refresh();
}

void ImageView::setBrushSize(int pixels) { brushSize_ = std::max(1, pixels); }

void ImageView::setOpacity(double opacity) {
  opacity_ = std::clamp(opacity, 0.0, 1.0);
  updateColors();
  update();
}

void ImageView::updateColors() {
  if (!document_) return;
  labelColors_ = overlayColors(document_->classes(), opacity_);
  predictionColors_ = overlayColors(document_->classes(), opacity_ * 0.7, BackgroundTint::Clear);
}

void ImageView::setPrediction(const torch::Tensor& classIds) {
  if (!document_) return;
  const QSize plane = document_->planeSize();
  if (classIds.dim() != 2 || classIds.size(0) != plane.height() ||
      classIds.size(1) != plane.width()) {
    throw std::invalid_argument("setPrediction: expected [" + std::to_string(plane.height()) +
                                ", " + std::to_string(plane.width()) + "] class ids, got " +
                                c10::str(classIds.sizes()));
  }
  prediction_ = classIds.clamp(0, kUnlabelled).to(torch::kUInt8).contiguous().cpu();
  update();
}

void ImageView::clearPrediction() {
  prediction_ = torch::Tensor();
  update();
}

double ImageView::scaleY() const { return scale_ * (document_ ? document_->pixelAspect() : 1.0); }

QPointF ImageView::widgetToPlane(QPointF p) const {
  return {(p.x() - offset_.x()) / scale_, (p.y() - offset_.y()) / scaleY()};
}

QPointF ImageView::planeToWidget(QPointF p) const {
  return {offset_.x() + p.x() * scale_, offset_.y() + p.y() * scaleY()};
}

QRect ImageView::widgetRectOf(const QRect& r) const {
  const QPointF a = planeToWidget(r.topLeft()), b = planeToWidget(r.bottomRight() + QPoint(1, 1));
  return QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2);
}

QRect ImageView::brushOutline(QPointF widgetPos) const {
  const double r = brushSize_ * scale_ / 2 + 2;
  return QRectF(widgetPos.x() - r, widgetPos.y() - r * scaleY() / scale_, 2 * r,
                2 * r * scaleY() / scale_)
      .toAlignedRect()
      .adjusted(-2, -2, 2, 2);
}

void ImageView::fitToWindow() {
  if (!document_) return;
  const QSize plane = document_->planeSize();
  const double aspect = document_->pixelAspect();
  scale_ = std::min(width() / double(plane.width()), height() / (plane.height() * aspect));
  if (!(scale_ > 0)) scale_ = 1;
  offset_ = QPointF((width() - plane.width() * scale_) / 2,
                    (height() - plane.height() * scale_ * aspect) / 2);
  shownPlane_ = plane;
  fitted_ = true;
  update();
}

void ImageView::zoomBy(double factor, QPointF anchor) {
  if (!document_) return;
  const QPointF at = widgetToPlane(anchor);
  scale_ = std::clamp(scale_ * factor, 1e-4, 64.0);
  fitted_ = false;
  offset_ = anchor - QPointF(at.x() * scale_, at.y() * scaleY());
  update();
}

void ImageView::setCrosshair(std::optional<QPointF> planePos) {
  if (crosshair_ == planePos) return;
  crosshair_ = planePos;
  update();
}

void ImageView::refresh() {
  if (document_ && document_->planeSize() != shownPlane_) {
    prediction_ = torch::Tensor();
    fitToWindow();
  }
  updateColors();
  update();
}

void ImageView::undo() {
  if (!document_ || !document_->labels().canUndo()) return;
  document_->undo();
  refresh();
  Q_EMIT labelsChanged();
}

void ImageView::redo() {
  if (!document_ || !document_->labels().canRedo()) return;
  document_->redo();
  refresh();
  Q_EMIT labelsChanged();
}

void ImageView::paintEvent(QPaintEvent* event) {
  QPainter p(this);
  if (!document_) {
    p.fillRect(rect(), QColor(40, 40, 40));
    p.setPen(Qt::lightGray);
    p.drawText(rect(), Qt::AlignCenter, tr("Open an image (File > Open), or drop one here"));
    renderComplete_ = true;
    return;
  }
  // Each exposed rectangle on its own: a stroke's dirty rectangle and the
  // brush outline far from it are two small areas, not their bounding box.
  bool complete = true;
  for (const QRect& exposed : event->region()) {
    p.fillRect(exposed, QColor(40, 40, 40));
    const QRectF visible(widgetToPlane(exposed.topLeft()),
                         widgetToPlane(exposed.bottomRight() + QPoint(1, 1)));
    p.save();
    p.setClipRect(exposed);
    p.translate(offset_);
    p.scale(scale_, scaleY());
    // Sharp pixels when zoomed in, smooth when zoomed out.
    p.setRenderHint(QPainter::SmoothPixmapTransform, scale_ < 1);
    complete = document_->tiles().draw(p, visible, scale_, kTileBudgetMs) && complete;
    p.restore();

    // Prediction, then labels, at screen resolution.
    QImage overlay(exposed.size(), QImage::Format_ARGB32_Premultiplied);
    if (prediction_.defined()) {
      const LabelPlane plane{prediction_.data_ptr<uint8_t>(), 1, prediction_.size(1),
                             static_cast<int>(prediction_.size(1)),
                             static_cast<int>(prediction_.size(0))};
      renderOverlay(overlay, exposed, plane, offset_, scale_, scaleY(), predictionColors_);
      p.drawImage(exposed.topLeft(), overlay);
    }
    renderOverlay(overlay, exposed, document_->labels().plane(), offset_, scale_, scaleY(),
                  labelColors_);
    p.drawImage(exposed.topLeft(), overlay);
  }

  if (crosshair_) {
    p.setClipRegion(event->region());
    const QSize size = document_->planeSize();
    const QPointF from = planeToWidget({0, 0}),
                  to = planeToWidget(QPointF(size.width(), size.height()));
    const QPointF at = planeToWidget(*crosshair_ + QPointF(0.5, 0.5));
    p.setPen(QPen(QColor(255, 220, 0, 160), 1));
    p.drawLine(QPointF(from.x(), at.y()), QPointF(to.x(), at.y()));
    p.drawLine(QPointF(at.x(), from.y()), QPointF(at.x(), to.y()));
  }

  if (hovering_ && tool_ != Tool::Fill && !panning_) {
    p.setClipRegion(event->region());
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(Qt::white, 1));
    const double rx = brushSize_ * scale_ / 2, ry = brushSize_ * scaleY() / 2;
    p.drawEllipse(hover_, rx, ry);
  }

  const bool wasComplete = renderComplete_;
  renderComplete_ = complete;
  if (!complete) {
    QTimer::singleShot(0, this, [this] { update(); });  // read more tiles next time round
  } else if (!wasComplete) {
    Q_EMIT renderFinished();
  }
}

void ImageView::resizeEvent(QResizeEvent*) {
  if (document_ && fitted_) fitToWindow();
}

void ImageView::mousePressEvent(QMouseEvent* event) {
  lastMouse_ = hover_ = event->position();
  hovering_ = true;
  if (!document_) return;
  const bool pan = event->button() == Qt::MiddleButton || event->button() == Qt::RightButton ||
                   (event->button() == Qt::LeftButton && spaceDown_);
  if (pan) {
    panning_ = true;
    setCursor(Qt::ClosedHandCursor);
    return;
  }
  if (event->button() != Qt::LeftButton) return;
  const QPointF at = widgetToPlane(event->position());
  auto& labels = document_->labels();
  if (tool_ == Tool::Fill) {
    const QRect changed = labels.fill(QPoint(int(std::floor(at.x())), int(std::floor(at.y()))),
                                      static_cast<uint8_t>(activeClass_));
    if (!changed.isEmpty()) {
      update(widgetRectOf(changed));
      Q_EMIT labelsChanged();
    }
    return;
  }
  const uint8_t value = tool_ == Tool::Eraser ? kUnlabelled : static_cast<uint8_t>(activeClass_);
  labels.beginStroke(value, brushSize_);
  painting_ = true;
  const QRect changed = labels.strokeTo(at);
  if (!changed.isEmpty()) update(widgetRectOf(changed));
}

void ImageView::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  if (!document_) return;
  const QRect oldOutline = brushOutline(hover_);
  hover_ = pos;
  hovering_ = true;
  if (panning_) {
    offset_ += pos - lastMouse_;
    fitted_ = false;
    lastMouse_ = pos;
    update();
    return;
  }
  lastMouse_ = pos;
  const QPointF at = widgetToPlane(pos);
  if (painting_) {
    const QRect changed = document_->labels().strokeTo(at);
    if (!changed.isEmpty()) update(widgetRectOf(changed));
  }
  update(oldOutline);
  update(brushOutline(pos));
  Q_EMIT cursorMoved(document_->coordinateText(at));
}

void ImageView::mouseReleaseEvent(QMouseEvent*) {
  if (panning_) {
    panning_ = false;
    setCursor(spaceDown_ ? Qt::OpenHandCursor : Qt::ArrowCursor);
  }
  if (painting_ && document_) {
    painting_ = false;
    document_->labels().endStroke();
    Q_EMIT labelsChanged();
  }
}

void ImageView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps != 0) zoomBy(std::pow(1.25, steps), event->position());
  event->accept();
}

void ImageView::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    spaceDown_ = true;
    setCursor(Qt::OpenHandCursor);
    return;
  }
  QWidget::keyPressEvent(event);
}

void ImageView::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    spaceDown_ = false;
    setCursor(Qt::ArrowCursor);
    return;
  }
  QWidget::keyReleaseEvent(event);
}

void ImageView::leaveEvent(QEvent*) {
  hovering_ = false;
  update(brushOutline(hover_));
}

}  // namespace revup::ui
