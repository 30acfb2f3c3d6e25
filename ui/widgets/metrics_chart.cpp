#include "ui/widgets/metrics_chart.h"

#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QListWidget>
#include <QSlider>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "ui/charts/chart_points.h"
#include "ui/charts/chart_style.h"
#include "ui/charts/chart_ticks.h"
#include "ui/widgets/chart_legend.h"
#include "workflows/run_folder.h"

namespace revup::ui {

QVector<QPointF> smoothed(const QVector<QPointF>& points, double weight) {
  QVector<QPointF> out;
  double average = 0.0, norm = 0.0;
  for (const auto& p : points) {
    average = weight * average + (1 - weight) * p.y();
    norm = weight * norm + (1 - weight);
    out.push_back(QPointF(p.x(), average / norm));
  }
  return out;
}

namespace {

QLineSeries* series(QChart* chart, const QString& name, QColor color, double width,
                    Qt::PenStyle style = Qt::SolidLine) {
  auto* s = new QLineSeries(chart);
  s->setName(name);
  QPen pen(color);
  pen.setWidthF(width);
  pen.setStyle(style);
  s->setPen(pen);
  chart->addSeries(s);
  return s;
}

// Tick counts the chart is given room for (chartMinimumHeight).
constexpr int kYTicks = 6, kXTicks = 8;

// Earlier runs: colours apart from the current run's loss and mIoU.
QColor runColour(int index) {
  static const int others[] = {1, 3, 5, 4, 6};
  return chartColour(others[index % std::size(others)]);
}

}  // namespace

RunCurves readRunCurves(const QString& runDir) {
  RunCurves curves;
  curves.name = QFileInfo(runDir).fileName();
  for (const auto& row : RunFolder(runDir.toStdString()).read_metrics().to_json()) {
    if (!row.contains("epoch")) continue;
    const double epoch = row["epoch"].get<double>();
    for (const auto& [column, points] :
         {std::pair{"train_loss", &curves.loss}, std::pair{"miou", &curves.miou}}) {
      if (row.contains(column) && row[column].is_number()) {
        const double v = row[column].get<double>();
        if (std::isfinite(v)) points->push_back(QPointF(epoch, v));
      }
    }
  }
  return curves;
}

MetricsChart::MetricsChart(QWidget* parent) : QWidget(parent) {
  setObjectName("metricsChart");
  chart_ = new QChart();
  applyChartStyle(chart_);
  chart_->setTitle(tr("Training loss and mIoU on the labels"));
  const QColor lossColor = chartColour(0), miouColor = chartColour(2);
  lossRaw_ = series(chart_, tr("loss (raw)"), lossColor.lighter(170), 1.0);
  lossSmooth_ = series(chart_, tr("loss"), lossColor, 2.0);
  miouRaw_ = series(chart_, tr("mIoU (raw)"), miouColor.lighter(170), 1.0);
  miouSmooth_ = series(chart_, tr("mIoU"), miouColor, 2.0);
  epochAxis_ = new QValueAxis(chart_);
  epochAxis_->setTitleText(tr("epoch"));
  lossAxis_ = new QValueAxis(chart_);
  lossAxis_->setTitleText(tr("loss"));
  miouAxis_ = new QValueAxis(chart_);
  miouAxis_->setTitleText(tr("mIoU"));
  applyNiceTicks(miouAxis_, 0, 1, kYTicks);
  // The grid follows the loss's ticks; a second grid would not line up.
  miouAxis_->setGridLineVisible(false);
  chart_->addAxis(epochAxis_, Qt::AlignBottom);
  chart_->addAxis(lossAxis_, Qt::AlignLeft);
  chart_->addAxis(miouAxis_, Qt::AlignRight);
  for (auto* s : {lossRaw_, lossSmooth_}) {
    s->attachAxis(epochAxis_);
    s->attachAxis(lossAxis_);
  }
  for (auto* s : {miouRaw_, miouSmooth_}) {
    s->attachAxis(epochAxis_);
    s->attachAxis(miouAxis_);
  }
  auto* view = new QChartView(chart_, this);
  view->setRenderHint(QPainter::Antialiasing);
  view->setRubberBand(QChartView::RectangleRubberBand);  // drag to zoom, right click out
  view->setObjectName("metricsChartView");
  // Earlier runs are left out: the run list is their legend.
  auto* legend = new ChartLegend(chart_, this);
  legend->setSeries({lossRaw_, lossSmooth_, miouRaw_, miouSmooth_});

  smoothingSlider_ = new QSlider(Qt::Horizontal, this);
  smoothingSlider_->setObjectName("smoothingSlider");
  smoothingSlider_->setRange(0, 99);
  smoothingSlider_->setValue(int(smoothing_ * 100));
  connect(smoothingSlider_, &QSlider::valueChanged, this,
          [this](int v) { setSmoothing(v / 100.0); });
  runList_ = new QListWidget(this);
  runList_->setObjectName("runList");
  runList_->setToolTip(tr("Runs of this project; uncheck one to hide its curves"));
  // A few rows; the chart keeps the height.
  runList_->setMinimumHeight(3 * runList_->fontMetrics().height());
  runList_->setMaximumHeight(6 * runList_->fontMetrics().height());
  connect(runList_, &QListWidget::itemChanged, this, [this] { refreshEarlierSeries(); });
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Smoothing"), this));
  controls->addWidget(smoothingSlider_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(view, 1);
  layout->addWidget(legend);
  layout->addLayout(controls);
  layout->addWidget(runList_);
  rebuildEarlierSeries();
  view->setMinimumHeight(chartMinimumHeight(chart_, kYTicks));
}

void MetricsChart::addEpoch(int epoch, double loss, const std::map<std::string, double>& metrics) {
  if (std::isfinite(loss)) loss_.push_back(QPointF(epoch, loss));
  const auto miou = metrics.find("miou");
  if (miou != metrics.end() && std::isfinite(miou->second)) {
    miou_.push_back(QPointF(epoch, miou->second));
  }
  refresh();
}

void MetricsChart::clear() {
  loss_.clear();
  miou_.clear();
  refresh();
}

void MetricsChart::setSmoothing(double weight) {
  smoothing_ = std::clamp(weight, 0.0, 0.99);
  refreshEarlierSeries();
}

void MetricsChart::startRun(const QString& name) {
  if (!loss_.isEmpty() || !miou_.isEmpty()) {
    earlier_.push_back({currentName_.isEmpty() ? tr("previous run") : currentName_, loss_, miou_});
  }
  currentName_ = name;
  loss_.clear();
  miou_.clear();
  rebuildEarlierSeries();
}

void MetricsChart::setEarlierRuns(const QVector<RunCurves>& runs) {
  earlier_ = runs;
  rebuildEarlierSeries();
}

int MetricsChart::visibleEarlierRuns() const {
  int visible = 0;
  for (int i = 1; i < runList_->count(); ++i)
    visible += runList_->item(i)->checkState() == Qt::Checked;
  return visible;
}

void MetricsChart::rebuildEarlierSeries() {
  for (auto* s : earlierSeries_) {
    chart_->removeSeries(s);
    delete s;
  }
  earlierSeries_.clear();
  const QSignalBlocker blocker(runList_);
  runList_->clear();
  // Row 0 is the current run; it is always shown.
  auto* current = new QListWidgetItem(
      currentName_.isEmpty() ? tr("current run") : tr("%1 (current)").arg(currentName_), runList_);
  current->setFlags(Qt::ItemIsEnabled);
  for (int i = 0; i < earlier_.size(); ++i) {
    const QColor colour = runColour(i);
    auto* loss = series(chart_, tr("%1 loss").arg(earlier_[i].name), colour, 1.5);
    auto* miou = series(chart_, tr("%1 mIoU").arg(earlier_[i].name), colour, 1.5, Qt::DashLine);
    loss->attachAxis(epochAxis_);
    loss->attachAxis(lossAxis_);
    miou->attachAxis(epochAxis_);
    miou->attachAxis(miouAxis_);
    earlierSeries_ << loss << miou;
    // The run list is their legend, in their colour.
    for (auto* s : {loss, miou}) {
      for (auto* marker : chart_->legend()->markers(s)) marker->setVisible(false);
    }
    auto* item = new QListWidgetItem(earlier_[i].name, runList_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
    item->setForeground(colour);
  }
  refreshEarlierSeries();
}

void MetricsChart::refreshEarlierSeries() {
  for (int i = 0; i < earlier_.size(); ++i) {
    const bool shown = runList_->item(i + 1)->checkState() == Qt::Checked;
    earlierSeries_[2 * i]->setVisible(shown);
    earlierSeries_[2 * i + 1]->setVisible(shown);
    earlierSeries_[2 * i]->replace(minMaxEnvelope(smoothed(earlier_[i].loss, smoothing_)));
    earlierSeries_[2 * i + 1]->replace(minMaxEnvelope(smoothed(earlier_[i].miou, smoothing_)));
  }
  refresh();
}

// Every epoch: the current run's curves (earlier runs do not change), each
// cut to what the chart can show (chart_points.h).
void MetricsChart::refresh() {
  lossRaw_->replace(minMaxEnvelope(loss_));
  lossSmooth_->replace(minMaxEnvelope(smoothed(loss_, smoothing_)));
  miouRaw_->replace(minMaxEnvelope(miou_));
  miouSmooth_->replace(minMaxEnvelope(smoothed(miou_, smoothing_)));
  double maxLoss = 0.0, firstEpoch = 0.0, lastEpoch = 2.0;
  bool any = false;
  const auto span = [&](const QVector<QPointF>& points) {
    for (const auto& p : points) {
      firstEpoch = any ? std::min(firstEpoch, p.x()) : p.x();
      lastEpoch = std::max(lastEpoch, p.x());
      any = true;
    }
  };
  for (const auto& p : loss_) maxLoss = std::max(maxLoss, p.y());
  span(loss_);
  for (int i = 0; i < earlier_.size(); ++i) {
    if (runList_->item(i + 1)->checkState() != Qt::Checked) continue;
    for (const auto& p : earlier_[i].loss) maxLoss = std::max(maxLoss, p.y());
    span(earlier_[i].loss);
  }
  applyNiceTicks(lossAxis_, 0, maxLoss, kYTicks);
  applyNiceTicks(epochAxis_, any ? firstEpoch : 0.0, lastEpoch, kXTicks, true);
}

}  // namespace revup::ui
