#include "ui/metrics_chart.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QSlider>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

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

QLineSeries* series(QChart* chart, const QString& name, QColor color, double width) {
  auto* s = new QLineSeries(chart);
  s->setName(name);
  QPen pen(color);
  pen.setWidthF(width);
  s->setPen(pen);
  chart->addSeries(s);
  return s;
}

}  // namespace

MetricsChart::MetricsChart(QWidget* parent) : QWidget(parent) {
  setObjectName("metricsChart");
  chart_ = new QChart();
  chart_->setTitle(tr("Training loss and mIoU on the labels"));
  const QColor lossColor(213, 94, 0), miouColor(0, 158, 115);
  lossRaw_ = series(chart_, tr("loss (raw)"), lossColor.lighter(170), 1.0);
  lossSmooth_ = series(chart_, tr("loss"), lossColor, 2.0);
  miouRaw_ = series(chart_, tr("mIoU (raw)"), miouColor.lighter(170), 1.0);
  miouSmooth_ = series(chart_, tr("mIoU"), miouColor, 2.0);
  epochAxis_ = new QValueAxis(chart_);
  epochAxis_->setTitleText(tr("epoch"));
  epochAxis_->setLabelFormat("%.0f");
  lossAxis_ = new QValueAxis(chart_);
  lossAxis_->setTitleText(tr("loss"));
  miouAxis_ = new QValueAxis(chart_);
  miouAxis_->setTitleText(tr("mIoU"));
  miouAxis_->setRange(0, 1);
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

  smoothingSlider_ = new QSlider(Qt::Horizontal, this);
  smoothingSlider_->setObjectName("smoothingSlider");
  smoothingSlider_->setRange(0, 99);
  smoothingSlider_->setValue(int(smoothing_ * 100));
  connect(smoothingSlider_, &QSlider::valueChanged, this,
          [this](int v) { setSmoothing(v / 100.0); });
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Smoothing"), this));
  controls->addWidget(smoothingSlider_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(view);
  layout->addLayout(controls);
  refresh();
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
  refresh();
}

void MetricsChart::refresh() {
  lossRaw_->replace(loss_);
  lossSmooth_->replace(smoothed(loss_, smoothing_));
  miouRaw_->replace(miou_);
  miouSmooth_->replace(smoothed(miou_, smoothing_));
  double maxLoss = 0.1;
  for (const auto& p : loss_) maxLoss = std::max(maxLoss, p.y());
  lossAxis_->setRange(0, maxLoss * 1.1);
  const double lastEpoch = loss_.isEmpty() ? 1.0 : loss_.last().x();
  epochAxis_->setRange(loss_.isEmpty() ? 0.0 : loss_.first().x(), std::max(lastEpoch, 2.0));
}

}  // namespace revup::ui
