#include "ui/widgets/training_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <torch/cuda.h>

#include "models/segmentation_presets.h"

namespace revup::ui {

QString formatDuration(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600)
    return QString("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QChar('0'));
  if (s >= 60) return QString("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QString("%1 s").arg(s);
}

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
  setObjectName("trainingPanel");
  preset_ = new QComboBox(this);
  preset_->setObjectName("presetCombo");
  for (const auto& p : segmentation_presets()) {
    preset_->addItem(QString::fromStdString(p.name), QString::fromStdString(p.name));
    preset_->setItemData(preset_->count() - 1, QString::fromStdString(p.description),
                         Qt::ToolTipRole);
  }
  lipschitz_ = new QDoubleSpinBox(this);
  lipschitz_->setObjectName("lipschitzSpin");
  lipschitz_->setRange(0.1, 0.99);
  lipschitz_->setSingleStep(0.05);
  lipschitz_->setToolTip(
      tr("c: each convolution's spectral norm bound; a block is invertible "
         "when its branch's Lipschitz constant is below 1"));
  iterations_ = new QSpinBox(this);
  iterations_->setObjectName("iterationsSpin");
  iterations_->setRange(1, 100);
  iterations_->setToolTip(
      tr("N: fixed-point iterations MemSave's backward uses to rebuild "
         "each block's input (the paper trains with 1)"));
  memSave_ = new QCheckBox(tr("MemSave (rebuild activations instead of keeping them)"), this);
  memSave_->setObjectName("memSaveCheck");
  injectiveStem_ = new QCheckBox(tr("Injective stem (the input image can be rebuilt)"), this);
  injectiveStem_->setObjectName("injectiveStemCheck");
  injectiveStem_->setToolTip(
      tr("Zero-pad the image's channels instead of the first convolution, as the paper does for "
         "analysis: the reconstruction panel can then rebuild the input image itself. The first "
         "stage then runs at full resolution: slower, for small images."));
  learningRate_ = new QDoubleSpinBox(this);
  learningRate_->setObjectName("learningRateSpin");
  learningRate_->setDecimals(4);
  learningRate_->setRange(1e-4, 1.0);
  learningRate_->setSingleStep(0.005);
  weightDecay_ = new QDoubleSpinBox(this);
  weightDecay_->setObjectName("weightDecaySpin");
  weightDecay_->setDecimals(5);
  weightDecay_->setRange(0.0, 0.1);
  weightDecay_->setSingleStep(1e-4);
  weightDecay_->setToolTip(tr("L2 penalty on the weights (revup-cli train --weight-decay)"));
  dice_ = new QDoubleSpinBox(this);
  dice_->setObjectName("diceSpin");
  dice_->setDecimals(2);
  dice_->setRange(0.0, 10.0);
  dice_->setSingleStep(0.1);
  dice_->setToolTip(
      tr("Weight of the soft Dice loss added to cross-entropy; helps thin or rare classes "
         "(revup-cli train --dice)"));
  clipGrad_ = new QDoubleSpinBox(this);
  clipGrad_->setObjectName("clipGradSpin");
  clipGrad_->setDecimals(2);
  clipGrad_->setRange(0.0, 1000.0);
  clipGrad_->setSingleStep(0.5);
  clipGrad_->setSpecialValueText(tr("off"));
  clipGrad_->setToolTip(
      tr("Rescale gradients whose norm exceeds this; 0 is off (revup-cli train --clip-grad)"));
  epochs_ = new QSpinBox(this);
  epochs_->setObjectName("epochsSpin");
  epochs_->setRange(1, 100000);
  augment_ = new QCheckBox(tr("Augment (flips, turns, jitter)"), this);
  volumesIn3D_ = new QCheckBox(tr("Volumes: train whole in 3D"), this);
  volumesIn3D_->setObjectName("volumesIn3DCheck");
  volumesIn3D_->setToolTip(
      tr("A 3D network over the whole volume (memory-saving blocks keep it to one step's "
         "activations). Off: a 2D network, slice by slice along the axis shown "
         "(revup-cli train --dims 2)."));
  device_ = new QComboBox(this);
  device_->setObjectName("deviceCombo");
  device_->addItem("cpu");
  for (int i = 0; i < static_cast<int>(torch::cuda::device_count()); ++i) {
    device_->addItem(QString("cuda:%1").arg(i));
  }

  auto* form = new QFormLayout;
  form->addRow(tr("Model"), preset_);
  form->addRow(tr("Lipschitz bound c"), lipschitz_);
  form->addRow(tr("Fixed-point iterations N"), iterations_);
  form->addRow(memSave_);
  form->addRow(injectiveStem_);
  form->addRow(tr("Learning rate"), learningRate_);
  form->addRow(tr("Weight decay"), weightDecay_);
  form->addRow(tr("Dice loss weight"), dice_);
  form->addRow(tr("Clip gradient norm"), clipGrad_);
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(augment_);
  form->addRow(volumesIn3D_);
  form->addRow(tr("Device"), device_);

  start_ = new QPushButton(tr("Start"), this);
  start_->setObjectName("startButton");
  pause_ = new QPushButton(tr("Pause"), this);
  pause_->setObjectName("pauseButton");
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setObjectName("stopButton");
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(pause_);
  buttons->addWidget(stop_);
  progress_ = new QProgressBar(this);
  progress_->setObjectName("trainingProgress");
  status_ = new QLabel(tr("Label some pixels, then Start."), this);
  status_->setObjectName("trainingStatus");
  status_->setWordWrap(true);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addStretch();

  connect(start_, &QPushButton::clicked, this, &TrainingPanel::startRequested);
  connect(pause_, &QPushButton::clicked, this,
          [this] { paused_ ? Q_EMIT resumeRequested() : Q_EMIT pauseRequested(); });
  connect(stop_, &QPushButton::clicked, this, &TrainingPanel::stopRequested);
  setSettings(rememberedTrainingSettings());
  setRunning(false);
}

TrainingSettings TrainingPanel::settings() const {
  TrainingSettings s;
  s.preset = preset_->currentData().toString().toStdString();
  s.lipschitz = lipschitz_->value();
  s.fixedPointIterations = iterations_->value();
  s.memSave = memSave_->isChecked();
  s.injectiveStem = injectiveStem_->isChecked();
  s.learningRate = learningRate_->value();
  s.weightDecay = weightDecay_->value();
  s.diceWeight = dice_->value();
  s.clipGrad = clipGrad_->value();
  s.epochs = epochs_->value();
  s.augment = augment_->isChecked();
  s.volumesIn3D = volumesIn3D_->isChecked();
  s.device = device_->currentText().toStdString();
  return s;
}

void TrainingPanel::setSettings(const TrainingSettings& s) {
  const int presetIndex = preset_->findData(QString::fromStdString(s.preset));
  if (presetIndex >= 0) preset_->setCurrentIndex(presetIndex);
  lipschitz_->setValue(s.lipschitz);
  iterations_->setValue(s.fixedPointIterations);
  memSave_->setChecked(s.memSave);
  injectiveStem_->setChecked(s.injectiveStem);
  learningRate_->setValue(s.learningRate);
  weightDecay_->setValue(s.weightDecay);
  dice_->setValue(s.diceWeight);
  clipGrad_->setValue(s.clipGrad);
  epochs_->setValue(s.epochs);
  augment_->setChecked(s.augment);
  volumesIn3D_->setChecked(s.volumesIn3D);
  const int deviceIndex = device_->findText(QString::fromStdString(s.device));
  if (deviceIndex >= 0) device_->setCurrentIndex(deviceIndex);
}

void TrainingPanel::setRunning(bool running) {
  start_->setEnabled(!running);
  pause_->setEnabled(running);
  stop_->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{
           preset_, lipschitz_, iterations_, memSave_, injectiveStem_, learningRate_, weightDecay_,
           dice_, clipGrad_, epochs_, augment_, volumesIn3D_, device_}) {
    w->setEnabled(!running);
  }
  if (!running) setPaused(false);
}

void TrainingPanel::setPaused(bool paused) {
  paused_ = paused;
  pause_->setText(paused ? tr("Resume") : tr("Pause"));
}

void TrainingPanel::showProgress(int epoch, int epochs, double secondsPerEpoch,
                                 const QString& status) {
  progress_->setRange(0, epochs);
  progress_->setValue(epoch);
  progress_->setFormat(
      QString("%v / %m epochs · %1 left").arg(formatDuration(secondsPerEpoch * (epochs - epoch))));
  status_->setText(status);
}

void TrainingPanel::showStatus(const QString& status) { status_->setText(status); }

}  // namespace revup::ui
