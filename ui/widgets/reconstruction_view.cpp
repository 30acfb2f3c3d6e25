#include "ui/widgets/reconstruction_view.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>

#include "ui/charts/chart_style.h"
#include "ui/charts/chart_ticks.h"
#include "ui/widgets/chart_legend.h"
#include "ui/widgets/error_reporter.h"

namespace revup::ui {
namespace {

QLabel* imageLabel(QWidget* parent, const QString& name) {
  auto* label = new QLabel(parent);
  label->setObjectName(name);
  label->setMinimumSize(160, 160);
  label->setAlignment(Qt::AlignCenter);
  label->setFrameShape(QFrame::StyledPanel);
  return label;
}

// Tick counts the chart is given room for (chartMinimumHeight).
constexpr int kYTicks = 6, kXTicks = 8;

void setPicture(QLabel* label, const QImage& image) {
  label->setPixmap(
      QPixmap::fromImage(image).scaled(label->size(), Qt::KeepAspectRatio, Qt::FastTransformation));
}

}  // namespace

ReconstructionView::ReconstructionView(QWidget* parent) : QWidget(parent) {
  setObjectName("reconstructionView");
  block_ = new QSpinBox(this);
  block_->setObjectName("blockSpin");
  // Shown at -1 when the model has the injective stem (the range allows it then).
  block_->setSpecialValueText(tr("input image"));
  channel_ = new QSpinBox(this);
  channel_->setObjectName("channelSpin");
  iterations_ = new QSlider(Qt::Horizontal, this);
  iterations_->setObjectName("iterationsSlider");
  iterations_->setRange(1, 100);
  iterationsLabel_ = new QLabel("N = 1", this);
  truth_ = imageLabel(this, "truthImage");
  rebuilt_ = imageLabel(this, "reconstructedImage");
  error_ = imageLabel(this, "errorImage");
  summary_ = new QLabel(tr("Train a model to see its blocks rebuilt from their outputs."), this);
  summary_->setObjectName("reconstructionSummary");
  summary_->setWordWrap(true);

  chart_ = new QChart();
  applyChartStyle(chart_);
  chart_->setTitle(tr("Reconstruction error per block"));
  chartView_ = new QChartView(chart_, this);
  chartView_->setRenderHint(QPainter::Antialiasing);
  chartView_->setObjectName("reconstructionChartView");
  chartView_->setMinimumHeight(chartMinimumHeight(chart_, kYTicks));
  legend_ = new ChartLegend(chart_, this);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Block"), this));
  controls->addWidget(block_);
  controls->addWidget(new QLabel(tr("Channel"), this));
  controls->addWidget(channel_);
  controls->addWidget(iterationsLabel_);
  controls->addWidget(iterations_, 1);
  auto* images = new QGridLayout;
  const QStringList titles = {tr("true activation"), tr("reconstruction"), tr("|error|")};
  QLabel* pictures[] = {truth_, rebuilt_, error_};
  for (int i = 0; i < 3; ++i) {
    images->addWidget(new QLabel(titles[i], this), 0, i, Qt::AlignHCenter);
    images->addWidget(pictures[i], 1, i);
  }
  images->setRowStretch(1, 1);  // the pictures take the height, their titles stay on them
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addLayout(images, 2);
  layout->addWidget(summary_);
  layout->addWidget(chartView_, 1);
  layout->addWidget(legend_);

  for (auto* spin : {block_, channel_}) {
    connect(spin, &QSpinBox::valueChanged, this, &ReconstructionView::requestReconstruction);
  }
  connect(iterations_, &QSlider::valueChanged, this, [this](int n) {
    iterationsLabel_->setText(QString("N = %1").arg(n));
    requestReconstruction();
  });
  setEnabled(false);
}

void ReconstructionView::setModel(SegmentationNet net, const torch::Tensor& normalized) {
  model_ = std::make_shared<ReconstructionModel>(std::move(net), normalized);
  block_->setRange(model_->rebuildsInput() ? ReconstructionRequest::kInputImage : 0,
                   std::max(0, model_->blockCount() - 1));
  setEnabled(model_->blockCount() > 0);
  requestReconstruction();
  requestCurves();
}

void ReconstructionView::setRequest(const ReconstructionRequest& request) {
  const QSignalBlocker b1(block_), b2(channel_), b3(iterations_);
  block_->setValue(request.block);
  channel_->setValue(request.channel);
  iterations_->setValue(request.iterations);
  iterationsLabel_->setText(QString("N = %1").arg(request.iterations));
  requestReconstruction();
}

void ReconstructionView::requestReconstruction() {
  if (!model_) return;
  const ReconstructionRequest request{block_->value(), channel_->value(), iterations_->value()};
  // A newer request (another block, channel or N) cancels this one.
  auto model = model_;
  reconstruction_.start<ReconstructionResult>(
      this, [model, request](TaskContext&) { return model->reconstruct(request); },
      [this](const ReconstructionResult& result) { showResult(result); },
      [this](const QString& message) { reportError(this, tr("Reconstruction failed"), message); });
}

void ReconstructionView::requestCurves() {
  auto model = model_;
  curvesTask_.start<ErrorCurves>(
      this, [model](TaskContext&) { return model->errorCurves(); },
      [this](const ErrorCurves& curves) { showCurves(curves); },
      [](const QString& message) { logLine("error", "reconstruction error curves: " + message); });
}

void ReconstructionView::showResult(const ReconstructionResult& r) {
  last_ = r;
  {
    const QSignalBlocker blocker(channel_);
    channel_->setRange(0, std::max(0, r.channels - 1));
  }
  setPicture(truth_, r.truth);
  setPicture(rebuilt_, r.reconstructed);
  setPicture(error_, r.error);
  channel_->setEnabled(!(r.request.block == ReconstructionRequest::kInputImage && r.channels == 3));
  if (r.request.block == ReconstructionRequest::kInputImage) {
    summary_->setText(tr("The input image rebuilt from the output of the first %1 blocks, N = %2 "
                         "iterations each: relative l2 error %3; largest |error| %4 (white in the "
                         "error map). With N = 1 colours shift; with N = 40 the image is exact "
                         "to the eye.")
                          .arg(r.blocksWalked)
                          .arg(r.request.iterations)
                          .arg(r.relativeError, 0, 'e', 2)
                          .arg(r.maxAbsError, 0, 'e', 2));
    Q_EMIT reconstructed(r);
    return;
  }
  summary_->setText(tr("Block %1 (stage %2, block %3) of %4, channel %5 of %6: relative l2 error "
                       "%7 with N = %8; largest |error| %9 (white in the error map)")
                        .arg(r.request.block)
                        .arg(r.stage)
                        .arg(r.blockInStage)
                        .arg(r.blockCount)
                        .arg(r.request.channel)
                        .arg(r.channels)
                        .arg(r.relativeError, 0, 'e', 2)
                        .arg(r.request.iterations)
                        .arg(r.maxAbsError, 0, 'e', 2));
  Q_EMIT reconstructed(r);
}

void ReconstructionView::showCurves(const ErrorCurves& curves) {
  curves_ = curves;
  chart_->removeAllSeries();
  for (auto* axis : chart_->axes()) chart_->removeAxis(axis);
  auto* x = new QValueAxis(chart_);
  const bool input = !curves.inputImage.isEmpty();
  x->setTitleText(input ? tr("invertible block (-1: the input image)") : tr("invertible block"));
  auto* y = new QLogValueAxis(chart_);
  y->setTitleText(tr("relative l2 error"));
  y->setLabelFormat("%.0e");
  chart_->addAxis(x, Qt::AlignBottom);
  chart_->addAxis(y, Qt::AlignLeft);
  double lo = 1.0, hi = 1e-12;
  for (int k = 0; k < curves.iterations.size(); ++k) {
    auto* s = new QLineSeries(chart_);
    s->setName(QString("N = %1").arg(curves.iterations[k]));
    s->setColor(chartColour(k + 1));
    if (input) {
      const double e = std::max(curves.inputImage[k], 1e-12);
      s->append(-1, e);
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
    for (int b = 0; b < curves.perBlock.size(); ++b) {
      // A log axis cannot show 0: an exact reconstruction sits at the floor.
      const double e = std::max(curves.perBlock[b][k], 1e-12);
      s->append(b, e);
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
    chart_->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  }
  applyNiceTicks(x, input ? -1 : 0, std::max<int>(1, curves.perBlock.size() - 1), kXTicks, true);
  // A label every `decades` powers of ten, so that at most kYTicks labels
  // share the height (an exact block sits at 1e-12: twelve decades).
  const double loExp = std::floor(std::log10(lo)), hiExp = std::ceil(std::log10(hi));
  const int decades = std::max(1, static_cast<int>(std::ceil((hiExp - loExp) / (kYTicks - 1))));
  const double first = std::floor(loExp / decades) * decades;
  const double last = std::max(first + decades, std::ceil(hiExp / decades) * decades);
  y->setBase(std::pow(10.0, decades));
  y->setRange(std::pow(10.0, first), std::pow(10.0, last));
  legend_->setSeries(chart_->series());
  chartView_->setMinimumHeight(chartMinimumHeight(chart_, kYTicks));
  Q_EMIT curvesReady();
}

}  // namespace revup::ui
