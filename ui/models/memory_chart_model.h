#pragma once
// What the memory chart shows (the paper's Figures 6 and 7): allocated memory
// after every block of the latest training step, forward then backward, for
// RevUp and for ResNet+Fixup of the same depth; the peak of every step over
// time; the device's total memory. Plain data, tested without a window.
#include <QPointF>
#include <QString>
#include <QVector>

#include "ui/models/training_session.h"

namespace revup::ui {

struct MemoryCurve {
  QVector<QPointF> forward, backward;  // x: position in the step (block order), y: MiB
  double peakMegabytes = 0.0;
  bool empty() const { return forward.isEmpty() && backward.isEmpty(); }
};

class MemoryChartModel {
 public:
  // A step's samples in the order they were taken: x counts blocks through
  // the forward pass and continues through the backward pass.
  static MemoryCurve curveFrom(const QVector<MemorySample>& samples, double peakMegabytes);

  void setLatestStep(const QVector<MemorySample>& samples, double peakMegabytes);
  // `label` names the baseline's curves in the legend ("<label> forward").
  void setBaseline(const QVector<MemorySample>& samples, double peakMegabytes,
                   const QString& label = "ResNet+Fixup");
  void clear();

  const MemoryCurve& revup() const { return revup_; }
  const MemoryCurve& baseline() const { return baseline_; }
  const QString& baselineLabel() const { return baselineLabel_; }
  // One point per step: (step number, peak MiB above what was live before it).
  const QVector<QPointF>& peaks() const { return peaks_; }

  // Total memory of the device training runs on (RAM for the CPU).
  double deviceTotalMegabytes() const { return deviceTotal_; }
  void setDeviceTotalMegabytes(double megabytes) { deviceTotal_ = megabytes; }

  // The largest value any curve reaches (the chart's scale).
  double maxMegabytes() const;

 private:
  MemoryCurve revup_, baseline_;
  QString baselineLabel_;
  QVector<QPointF> peaks_;
  double deviceTotal_ = 0.0;
};

}  // namespace revup::ui
