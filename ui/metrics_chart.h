#pragma once
// Loss and mIoU per epoch of a run, like TensorBoard's scalars: raw values
// faint, an exponential moving average (smoothing 0..0.99) on top, rubber-band
// zoom (right click zooms out).
#include <QPointF>
#include <QVector>
#include <QWidget>

#include <map>
#include <string>

QT_BEGIN_NAMESPACE
class QChart;
class QLineSeries;
class QSlider;
class QValueAxis;
QT_END_NAMESPACE

namespace revup::ui {

// TensorBoard's smoothing: s_i = w * s_{i-1} + (1 - w) * v_i, debiased.
QVector<QPointF> smoothed(const QVector<QPointF>& points, double weight);

class MetricsChart : public QWidget {
  Q_OBJECT

 public:
  explicit MetricsChart(QWidget* parent = nullptr);

  void addEpoch(int epoch, double loss, const std::map<std::string, double>& metrics);
  void clear();
  void setSmoothing(double weight);

  const QVector<QPointF>& lossPoints() const { return loss_; }
  const QVector<QPointF>& miouPoints() const { return miou_; }

 private:
  void refresh();

  QVector<QPointF> loss_, miou_;
  double smoothing_ = 0.6;
  QChart* chart_ = nullptr;
  QLineSeries *lossRaw_, *lossSmooth_, *miouRaw_, *miouSmooth_;
  QValueAxis *epochAxis_, *lossAxis_, *miouAxis_;
  QSlider* smoothingSlider_ = nullptr;
};

}  // namespace revup::ui
