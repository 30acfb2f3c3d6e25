#pragma once
// The image in the middle of the window: pan (middle or right drag, or
// space + drag), zoom at the cursor (wheel), fit to window; the label map over
// it in the classes' colours and an optional prediction; brush, eraser and
// fill tools that paint into the document's LabelEditor.
//
// Drawing only ever covers what is exposed: the picture comes from the
// document's tiles (rasters read lazily, a little each paint so the window
// never stalls), the labels are looked up per screen pixel, and a brush
// stroke repaints only its dirty rectangle.
#include <torch/types.h>

#include <QPointF>
#include <QWidget>

#include <optional>

#include "ui/models/label_overlay.h"

namespace revup::ui {

class ImageDocument;

class ImageView : public QWidget {
  Q_OBJECT

 public:
  enum class Tool { Brush, Eraser, Fill };
  // Per paint, how long reading missing raster tiles may take before the
  // rest is left for the next paint.
  static constexpr double kTileBudgetMs = 40;

  explicit ImageView(QWidget* parent = nullptr);

  // Not owned; nullptr shows nothing. Fits the image to the window.
  void setDocument(ImageDocument* document);
  ImageDocument* document() const { return document_; }

  void setTool(Tool tool) { tool_ = tool; }
  Tool tool() const { return tool_; }
  void setBrushSize(int pixels);
  int brushSize() const { return brushSize_; }
  void setActiveClass(int id) { activeClass_ = id; }
  int activeClass() const { return activeClass_; }
  void setOpacity(double opacity);
  double opacity() const { return opacity_; }

  // Class ids [H, W] (int64) predicted for the current 2D image or slice,
  // drawn under the labels; cleared when the plane changes.
  void setPrediction(const torch::Tensor& classIds);
  void clearPrediction();
  bool hasPrediction() const { return prediction_.defined(); }

  // A volume's crosshair in this plane (plane pixel coordinates), drawn as
  // two thin lines; nullopt hides it.
  void setCrosshair(std::optional<QPointF> planePos);

  void fitToWindow();
  // Zooms by `factor` keeping the plane point under `anchor` (widget
  // coordinates) where it is.
  void zoomBy(double factor, QPointF anchor);
  double scale() const { return scale_; }
  QPointF widgetToPlane(QPointF p) const;
  QPointF planeToWidget(QPointF p) const;

  // The document's plane, classes or display range changed: redraw (and
  // refit when the plane's size changed).
  void refresh();
  void undo();
  void redo();
  // Whether the last paint drew every tile at full sharpness.
  bool renderComplete() const { return renderComplete_; }

 Q_SIGNALS:
  void cursorMoved(const QString& text);
  void labelsChanged();
  // The first paint in which everything visible was drawn sharp.
  void renderFinished();

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  double scaleY() const;
  QRect widgetRectOf(const QRect& planeRect) const;
  QRect brushOutline(QPointF widgetPos) const;
  void updateColors();

  ImageDocument* document_ = nullptr;
  Tool tool_ = Tool::Brush;
  int brushSize_ = 20;
  int activeClass_ = 1;
  double opacity_ = 0.5;
  ColorLut labelColors_{}, predictionColors_{};
  torch::Tensor prediction_;  // uint8 [H, W]
  std::optional<QPointF> crosshair_;

  double scale_ = 1;
  QPointF offset_;       // where plane pixel (0, 0)'s corner is drawn
  QSize shownPlane_;     // the plane size the view was last fitted to
  bool fitted_ = false;  // refit on resize until the user zooms or pans
  bool painting_ = false, panning_ = false, spaceDown_ = false;
  QPointF lastMouse_, hover_;
  bool hovering_ = false;
  bool renderComplete_ = false;
};

}  // namespace revup::ui
