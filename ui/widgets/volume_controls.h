#pragma once
// For volumes only: the slicing axis, the slice (slider and number), window
// and level for 16-bit and float data, and the voxel spacing.
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace revup::ui {

class ImageDocument;

class VolumeControls : public QWidget {
  Q_OBJECT

 public:
  explicit VolumeControls(QWidget* parent = nullptr);
  void setDocument(ImageDocument* document);  // not owned
  // Shows the document's axis, slice and window/level again.
  void refresh();

 Q_SIGNALS:
  // The document's plane or display range changed (the view redraws).
  void planeChanged();

 private:
  void applySlice();
  void applyWindow();

  ImageDocument* document_ = nullptr;
  QComboBox* axis_;
  QSlider* slider_;
  QSpinBox* slice_;
  QDoubleSpinBox *window_, *level_;
  QLabel* spacing_;
};

}  // namespace revup::ui
