#include "ui/widgets/memory_chart_view.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QLabel>
#include <QLineSeries>
#include <QPen>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_ticks.h"
#include "ui/widgets/chart_legend.h"

namespace revup::ui {
namespace {

QLineSeries* addSeries(QChart* chart, const QString& name, const QColor& color,
                       Qt::PenStyle style = Qt::SolidLine) {
  auto* s = new QLineSeries(chart);
  s->setName(name);
  QPen pen(color);
  pen.setWidthF(2.0);
  pen.setStyle(style);
  s->setPen(pen);
  chart->addSeries(s);
  return s;
}

QValueAxis* addAxis(QChart* chart, Qt::Alignment where, const QString& title) {
  auto* axis = new QValueAxis(chart);
  axis->setTitleText(title);
  chart->addAxis(axis, where);
  return axis;
}

// Tick counts the charts are given room for (chartMinimumHeight).
constexpr int kBlockTicks = 6, kPeakTicks = 4, kXTicks = 8;

void attach(QLineSeries* s, QValueAxis* x, QValueAxis* y) {
  s->attachAxis(x);
  s->attachAxis(y);
}

}  // namespace

MemoryChartView::MemoryChartView(QWidget* parent) : QWidget(parent) {
  setObjectName("memoryChart");
  blocks_ = new QChart();
  applyChartStyle(blocks_);
  blocks_->setTitle(tr("Allocated memory after each block, latest step"));
  revupForward_ = addSeries(blocks_, tr("RevUp forward"), chartColour(1));
  revupBackward_ = addSeries(blocks_, tr("RevUp backward"), chartColour(5));
  baselineForward_ = addSeries(blocks_, tr("ResNet+Fixup forward"), chartColour(0), Qt::DashLine);
  baselineBackward_ = addSeries(blocks_, tr("ResNet+Fixup backward"), chartColour(4), Qt::DashLine);
  deviceTotal_ = addSeries(blocks_, tr("device memory"), Qt::darkGray, Qt::DotLine);
  blockX_ = addAxis(blocks_, Qt::AlignBottom, tr("block (forward, then backward)"));
  // Memory is counted in 2^20 bytes (training_session.cpp): MiB, not MB.
  blockY_ = addAxis(blocks_, Qt::AlignLeft, tr("above step start (MiB)"));
  for (auto* s :
       {revupForward_, revupBackward_, baselineForward_, baselineBackward_, deviceTotal_}) {
    attach(s, blockX_, blockY_);
  }

  overTime_ = new QChart();
  applyChartStyle(overTime_);
  overTime_->setTitle(tr("Whole-step peak memory per step"));
  overTime_->legend()->hide();  // one series, named by the title
  peaks_ = addSeries(overTime_, tr("peak"), chartColour(1));
  stepX_ = addAxis(overTime_, Qt::AlignBottom, tr("training step"));
  stepY_ = addAxis(overTime_, Qt::AlignLeft, tr("peak (MiB)"));
  attach(peaks_, stepX_, stepY_);
  auto* legend = new ChartLegend(blocks_, this);
  legend->setSeries(
      {revupForward_, revupBackward_, baselineForward_, baselineBackward_, deviceTotal_});

  auto* blocksView = new QChartView(blocks_, this);
  blocksView->setRenderHint(QPainter::Antialiasing);
  blocksView->setObjectName("memoryPerBlockView");
  auto* overTimeView = new QChartView(overTime_, this);
  overTimeView->setRenderHint(QPainter::Antialiasing);
  overTimeView->setObjectName("peakPerStepView");
  summary_ = new QLabel(this);
  summary_->setObjectName("memorySummary");
  summary_->setWordWrap(true);
  deviceScale_ = new QCheckBox(tr("Scale to the device's memory"), this);
  deviceScale_->setObjectName("deviceScaleCheck");
  deviceScale_->setToolTip(
      tr("Draw the device's total memory and stretch the scale to it: how "
         "much room the step leaves"));
  connect(deviceScale_, &QCheckBox::toggled, this, [this] { refresh(); });
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(blocksView, 3);
  layout->addWidget(legend);
  layout->addWidget(overTimeView, 1);
  layout->addWidget(summary_);
  layout->addWidget(deviceScale_);
  refresh();
  // After refresh: the heights depend on the axes' titles and fonts.
  blocksView->setMinimumHeight(chartMinimumHeight(blocks_, kBlockTicks));
  overTimeView->setMinimumHeight(chartMinimumHeight(overTime_, kPeakTicks));
}

void MemoryChartView::refresh() {
  revupForward_->replace(model_.revup().forward);
  revupBackward_->replace(model_.revup().backward);
  baselineForward_->replace(model_.baseline().forward);
  baselineBackward_->replace(model_.baseline().backward);
  const QString baseline =
      model_.baselineLabel().isEmpty() ? tr("ResNet+Fixup") : model_.baselineLabel();
  baselineForward_->setName(tr("%1 forward").arg(baseline));
  baselineBackward_->setName(tr("%1 backward").arg(baseline));

  const double top = model_.maxMegabytes();
  double lastX = 1, bottom = 0;
  for (const auto* c : {&model_.revup(), &model_.baseline()}) {
    for (const auto* s : {&c->forward, &c->backward}) {
      if (!s->isEmpty()) lastX = std::max(lastX, s->last().x());
      // A step can free what was live before it (last step's gradients):
      // below zero stays on the chart instead of under its frame.
      for (const auto& p : *s) bottom = std::min(bottom, p.y());
    }
  }
  // The device's memory is drawn when it is on the same scale as the curves
  // (on a GPU it often is); against 24 GB of RAM it would flatten everything.
  const double total = model_.deviceTotalMegabytes();
  const bool totalOnScale = total > 0 && (total < 3 * top || deviceScale_->isChecked());
  deviceTotal_->replace(totalOnScale ? QVector<QPointF>{{0, total}, {lastX, total}}
                                     : QVector<QPointF>{});
  applyNiceTicks(blockX_, 0, lastX, kXTicks, true);
  // A little room over the device line, so that it is not the plot's frame.
  applyNiceTicks(blockY_, bottom, totalOnScale ? total * 1.05 : top, kBlockTicks);

  peaks_->replace(model_.peaks());
  double peakTop = 0.0;
  for (const auto& p : model_.peaks()) peakTop = std::max(peakTop, p.y());
  applyNiceTicks(stepX_, 1, std::max<qreal>(2, model_.peaks().size()), kXTicks, true);
  applyNiceTicks(stepY_, 0, peakTop, kPeakTicks);

  QString text;
  if (model_.revup().empty() && model_.baseline().empty()) {
    text = tr("No measurement yet: the curves start with training.");
  } else if (!model_.revup().empty()) {
    text = tr("RevUp whole step: %1 MiB").arg(model_.revup().peakMegabytes, 0, 'f', 1);
    if (!model_.baseline().empty() && model_.baseline().peakMegabytes > 0) {
      text += tr(" · ResNet+Fixup: %1 MiB (RevUp uses %2x)")
                  .arg(model_.baseline().peakMegabytes, 0, 'f', 1)
                  .arg(model_.revup().peakMegabytes / model_.baseline().peakMegabytes, 0, 'f', 2);
    }
  }
  if (total > 0) {
    text += tr(" · device memory %1 GiB").arg(total / 1024.0, 0, 'f', 1);
    if (!totalOnScale) text += tr(" (off this scale)");
  }
  summary_->setText(text);
}

}  // namespace revup::ui
