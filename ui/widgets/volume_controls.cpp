#include "ui/widgets/volume_controls.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>

#include <algorithm>

#include "ui/models/image_document.h"

namespace revup::ui {

VolumeControls::VolumeControls(QWidget* parent) : QWidget(parent) {
  setObjectName("volumeControls");
  axis_ = new QComboBox(this);
  axis_->setObjectName("sliceAxis");
  axis_->addItems({tr("0 (D: axial)"), tr("1 (H: coronal)"), tr("2 (W: sagittal)")});
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setObjectName("sliceSlider");
  slice_ = new QSpinBox(this);
  slice_->setObjectName("sliceSpin");
  window_ = new QDoubleSpinBox(this);
  window_->setObjectName("windowSpin");
  level_ = new QDoubleSpinBox(this);
  level_->setObjectName("levelSpin");
  for (auto* box : {window_, level_}) {
    box->setDecimals(2);
    box->setKeyboardTracking(false);
  }
  spacing_ = new QLabel(this);
  spacing_->setObjectName("spacingLabel");
  auto* layout = new QFormLayout(this);
  layout->addRow(tr("Axis"), axis_);
  layout->addRow(tr("Slice"), slider_);
  layout->addRow(QString(), slice_);
  layout->addRow(tr("Window"), window_);
  layout->addRow(tr("Level"), level_);
  layout->addRow(tr("Spacing"), spacing_);

  connect(axis_, &QComboBox::currentIndexChanged, this, [this] {
    if (!document_) return;
    const int axis = axis_->currentIndex();
    document_->setSlice(axis, document_->sliceCount(axis) / 2);
    refresh();
    Q_EMIT planeChanged();
  });
  connect(slider_, &QSlider::valueChanged, slice_, &QSpinBox::setValue);
  connect(slice_, &QSpinBox::valueChanged, this, &VolumeControls::applySlice);
  connect(window_, &QDoubleSpinBox::valueChanged, this, &VolumeControls::applyWindow);
  connect(level_, &QDoubleSpinBox::valueChanged, this, &VolumeControls::applyWindow);
}

void VolumeControls::setDocument(ImageDocument* document) {
  document_ = document;
  refresh();
}

void VolumeControls::refresh() {
  if (!document_ || !document_->isVolume()) return;
  const QSignalBlocker b1(axis_), b2(slider_), b3(slice_), b4(window_), b5(level_);
  const int axis = document_->sliceAxis();
  axis_->setCurrentIndex(axis);
  slider_->setRange(0, document_->sliceCount(axis) - 1);
  slice_->setRange(0, document_->sliceCount(axis) - 1);
  slider_->setValue(document_->sliceIndex());
  slice_->setValue(document_->sliceIndex());
  const auto data = document_->dataRange();
  const double span = std::max(1e-6, data.high - data.low);
  window_->setRange(span * 1e-4, span * 2);
  window_->setSingleStep(span / 100);
  level_->setRange(data.low - span, data.high + span);
  level_->setSingleStep(span / 100);
  window_->setValue(document_->displayRange().window());
  level_->setValue(document_->displayRange().level());
  const auto s = document_->spacing();
  spacing_->setText(s ? QString("%1 x %2 x %3 mm").arg((*s)[0]).arg((*s)[1]).arg((*s)[2])
                      : tr("unknown"));
}

void VolumeControls::applySlice() {
  if (!document_) return;
  const QSignalBlocker block(slider_);
  slider_->setValue(slice_->value());
  if (slice_->value() == document_->sliceIndex()) return;
  document_->setSlice(document_->sliceAxis(), slice_->value());
  Q_EMIT planeChanged();
}

void VolumeControls::applyWindow() {
  if (!document_) return;
  document_->setDisplayRange(DisplayRange::fromWindowLevel(window_->value(), level_->value()));
  Q_EMIT planeChanged();
}

}  // namespace revup::ui
