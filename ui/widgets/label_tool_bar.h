#pragma once
// The labelling tool bar: brush, eraser and fill, the brush size, the
// overlay's opacity, undo and redo (Ctrl+Z, Ctrl+Shift+Z) and fit to
// window, all acting on one ImageView.
#include <QToolBar>

class QAction;
class QSlider;
class QSpinBox;

namespace revup::ui {

class ImageView;

class LabelToolBar : public QToolBar {
  Q_OBJECT

 public:
  LabelToolBar(ImageView* view, QWidget* parent = nullptr);
  // Enables undo and redo as the view's document allows.
  void updateUndoState();

  QAction* brushAction() const { return brush_; }
  QAction* eraserAction() const { return eraser_; }
  QAction* fillAction() const { return fill_; }
  QAction* undoAction() const { return undo_; }
  QAction* redoAction() const { return redo_; }

 private:
  ImageView* view_;
  QAction *brush_, *eraser_, *fill_, *undo_, *redo_, *fit_;
  QSpinBox* size_;
  QSlider* opacity_;
};

}  // namespace revup::ui
