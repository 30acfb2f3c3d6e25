#pragma once
// The training controls: model and optimisation settings, Start / Pause /
// Resume / Stop, and progress with an estimate of the time left.
#include <QWidget>

#include "ui/models/training_settings.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace revup::ui {

class TrainingPanel : public QWidget {
  Q_OBJECT

 public:
  explicit TrainingPanel(QWidget* parent = nullptr);

  TrainingSettings settings() const;
  void setSettings(const TrainingSettings& settings);

  // What the buttons offer follows the session's state.
  void setRunning(bool running);
  void setPaused(bool paused);
  // After each epoch: the bar, the loss and mIoU, and time left from the
  // average epoch so far.
  void showProgress(int epoch, int epochs, double secondsPerEpoch, const QString& status);
  void showStatus(const QString& status);

 Q_SIGNALS:
  void startRequested();
  void pauseRequested();
  void resumeRequested();
  void stopRequested();

 private:
  QComboBox *preset_, *device_;
  QDoubleSpinBox *lipschitz_, *learningRate_, *weightDecay_, *dice_, *clipGrad_;
  QSpinBox *iterations_, *epochs_;
  QCheckBox *memSave_, *injectiveStem_, *augment_, *volumesIn3D_;
  QPushButton *start_, *pause_, *stop_;
  QProgressBar* progress_;
  QLabel* status_;
  bool paused_ = false;
};

// "1 h 02 min", "3 min 20 s", "45 s".
QString formatDuration(double seconds);

}  // namespace revup::ui
