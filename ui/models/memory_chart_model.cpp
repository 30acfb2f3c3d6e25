#include "ui/models/memory_chart_model.h"

#include <algorithm>

namespace revup::ui {

MemoryCurve MemoryChartModel::curveFrom(const QVector<MemorySample>& samples,
                                        double peakMegabytes) {
  MemoryCurve curve;
  curve.peakMegabytes = peakMegabytes;
  for (int i = 0; i < samples.size(); ++i) {
    auto& series = samples[i].phase == 0 ? curve.forward : curve.backward;
    series.push_back(QPointF(i, samples[i].megabytes));
  }
  return curve;
}

void MemoryChartModel::setLatestStep(const QVector<MemorySample>& samples, double peakMegabytes) {
  revup_ = curveFrom(samples, peakMegabytes);
  peaks_.push_back(QPointF(peaks_.size() + 1, peakMegabytes));
}

void MemoryChartModel::setBaseline(const QVector<MemorySample>& samples, double peakMegabytes,
                                   const QString& label) {
  baseline_ = curveFrom(samples, peakMegabytes);
  baselineLabel_ = label;
}

void MemoryChartModel::clear() {
  revup_ = baseline_ = MemoryCurve{};
  peaks_.clear();
}

double MemoryChartModel::maxMegabytes() const {
  double m = 0.0;
  for (const auto* curve : {&revup_, &baseline_}) {
    m = std::max(m, curve->peakMegabytes);
    for (const auto* series : {&curve->forward, &curve->backward}) {
      for (const auto& p : *series) m = std::max(m, p.y());
    }
  }
  return m;
}

}  // namespace revup::ui
