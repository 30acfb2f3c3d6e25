#pragma once
// Loss and mIoU per epoch, like TensorBoard's scalars: the current run's raw
// values faint with an exponential moving average (smoothing 0..0.99) on top;
// the project's earlier runs as smoothed lines of their own colour, each
// shown or hidden from the run list; rubber-band zoom (right click zooms out).
#include <QPointF>
#include <QVector>
#include <QWidget>

#include <map>
#include <string>

QT_BEGIN_NAMESPACE
class QChart;
class QLineSeries;
class QListWidget;
class QSlider;
class QValueAxis;
QT_END_NAMESPACE

namespace revup::ui {

// TensorBoard's smoothing: s_i = w * s_{i-1} + (1 - w) * v_i, debiased.
QVector<QPointF> smoothed(const QVector<QPointF>& points, double weight);

struct RunCurves {
  QString name;
  QVector<QPointF> loss, miou;  // (epoch, value)
};

// A run folder's curves from its metrics.csv (train_loss and miou columns).
RunCurves readRunCurves(const QString& runDir);

class MetricsChart : public QWidget {
  Q_OBJECT

 public:
  explicit MetricsChart(QWidget* parent = nullptr);

  void addEpoch(int epoch, double loss, const std::map<std::string, double>& metrics);
  void clear();  // the current run's points
  void setSmoothing(double weight);
  // A new current run: the one before (if it had any epoch) joins the earlier runs.
  void startRun(const QString& name);
  void setEarlierRuns(const QVector<RunCurves>& runs);
  const QVector<RunCurves>& earlierRuns() const { return earlier_; }
  // Earlier runs shown (checked in the run list).
  int visibleEarlierRuns() const;

  const QVector<QPointF>& lossPoints() const { return loss_; }
  const QVector<QPointF>& miouPoints() const { return miou_; }

 private:
  void refresh();
  void refreshEarlierSeries();  // their curves (smoothing, shown or not), then refresh()
  void rebuildEarlierSeries();

  QString currentName_;
  QVector<QPointF> loss_, miou_;
  QVector<RunCurves> earlier_;
  QVector<QLineSeries*> earlierSeries_;  // loss, mIoU per earlier run
  QListWidget* runList_ = nullptr;
  double smoothing_ = 0.6;
  QChart* chart_ = nullptr;
  QLineSeries *lossRaw_, *lossSmooth_, *miouRaw_, *miouSmooth_;
  QValueAxis *epochAxis_, *lossAxis_, *miouAxis_;
  QSlider* smoothingSlider_ = nullptr;
};

}  // namespace revup::ui
