#pragma once
// The memory chart: RevUp's allocated memory after every block of the latest
// step (forward solid, backward lighter) against ResNet+Fixup's (dashed), and
// below it the peak of every step over time. RevUp's curve stays flat through
// the invertible blocks; the baseline's climbs with depth.
#include <QWidget>

#include "ui/models/memory_chart_model.h"

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QLabel;
class QLineSeries;
class QValueAxis;
class QCheckBox;
QT_END_NAMESPACE

namespace revup::ui {

class MemoryChartView : public QWidget {
  Q_OBJECT

 public:
  explicit MemoryChartView(QWidget* parent = nullptr);

  MemoryChartModel& model() { return model_; }
  // Redraws from the model (called after each step: cheap, a few hundred points).
  void refresh();

  // For tests and screenshots: the series as drawn.
  QLineSeries* revupForward() const { return revupForward_; }
  QLineSeries* revupBackward() const { return revupBackward_; }
  QLineSeries* baselineForward() const { return baselineForward_; }
  QLineSeries* baselineBackward() const { return baselineBackward_; }
  QLineSeries* peaks() const { return peaks_; }
  QLineSeries* deviceTotal() const { return deviceTotal_; }
  QValueAxis* blockAxisY() const { return blockY_; }

 private:
  MemoryChartModel model_;
  QChart* blocks_ = nullptr;
  QChart* overTime_ = nullptr;
  QLineSeries *revupForward_, *revupBackward_, *baselineForward_, *baselineBackward_, *deviceTotal_,
      *peaks_;
  QValueAxis *blockX_, *blockY_, *stepX_, *stepY_;
  QLabel* summary_ = nullptr;
  // Off: the device line only when it is on the curves' scale. On: always,
  // with the scale stretched to it (how much headroom is left).
  QCheckBox* deviceScale_ = nullptr;
};

}  // namespace revup::ui
