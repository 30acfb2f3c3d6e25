// Charts a person can read, checked without eyes: ticks at 1-2-5 steps with
// distinct labels (an empty axis too), chart heights that leave room for
// every y label and the axis title, legends that name every series in full,
// the window's default layout fitting 1280x800 without growing, and a
// prediction overlay that leaves background and unlabelled pixels untouched.
#include <gtest/gtest.h>

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QDockWidget>
#include <QLabel>
#include <QLineSeries>
#include <QPainter>
#include <QValueAxis>

#include <cmath>
#include <cstdio>

#include "ui/widgets/chart_legend.h"
#include "ui/charts/chart_ticks.h"
#include "ui/models/label_overlay.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/memory_chart_view.h"
#include "ui/widgets/metrics_chart.h"
#include "ui/widgets/reconstruction_view.h"

namespace revup::ui {
namespace {

void settle() {
  for (int i = 0; i < 5; ++i) QApplication::processEvents();
}

TEST(ChartTicks, AreDistinctIncreasingAndShort) {
  struct Case {
    double lo, hi;
    bool whole;
  };
  for (const Case c : {Case{0, 0, false}, Case{0, 1e-3, false}, Case{0, 48.7, false},
                       Case{2997, 3001, false}, Case{0, 25, true}, Case{0, 0, true},
                       Case{1, 12, true}, Case{-0.3, 0.7, false}, Case{0, 24000 * 1.05, false}}) {
    SCOPED_TRACE(::testing::Message() << "[" << c.lo << ", " << c.hi << "]");
    const NiceTicks t = niceTicks(c.lo, c.hi, 6, c.whole);
    EXPECT_LE(t.min, c.lo);
    EXPECT_GE(t.max, c.hi);
    EXPECT_GE(t.count(), 2);
    EXPECT_LE(t.count(), 6);
    // 1, 2 or 5 times a power of ten.
    const double mantissa = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                std::abs(mantissa - 5) < 1e-9)
        << t.step;
    if (c.whole) EXPECT_GE(t.step, 1.0);
    const QStringList labels = t.labels();
    ASSERT_EQ(labels.size(), t.count());
    for (int i = 0; i < labels.size(); ++i) {
      EXPECT_LE(labels[i].size(), 7) << labels[i].toStdString();
      // Each label says its tick's value to within a hundredth of a step.
      EXPECT_NEAR(labels[i].toDouble(), t.min + i * t.step, t.step / 100)
          << labels[i].toStdString();
      if (i > 0) EXPECT_GT(labels[i].toDouble(), labels[i - 1].toDouble());
    }
  }
  // An empty chart: 0 to 1 in fifths, not 0, 0, 1, 1, 1.
  EXPECT_EQ(niceTicks(0, 0).labels(), QStringList({"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  EXPECT_EQ(niceTicks(2997, 3001).labels(), QStringList({"2997", "2998", "2999", "3000", "3001"}));
}

TEST(ChartTicks, SetTheAxisToThem) {
  QValueAxis axis;
  applyNiceTicks(&axis, 0, 48.7, 6);
  EXPECT_EQ(axis.min(), 0.0);
  EXPECT_EQ(axis.max(), 50.0);
  EXPECT_EQ(axis.tickCount(), 6);
  EXPECT_EQ(axis.labelFormat(), "%.0f");
  // Counts: the data's own span, a tick every 5 blocks.
  applyNiceTicks(&axis, 0, 25, 8, true);
  EXPECT_EQ(axis.min(), 0.0);
  EXPECT_EQ(axis.max(), 25.0);
  EXPECT_EQ(axis.tickType(), QValueAxis::TicksDynamic);
  EXPECT_EQ(axis.tickInterval(), 5.0);
}

// Every chart under `panel`, laid out at the panel's least height: the plot
// holds all y tick labels a line apart and the y axis's title.
void expectRoomForAxes(QWidget* panel) {
  const auto views = panel->findChildren<QChartView*>();
  ASSERT_FALSE(views.isEmpty());
  for (auto* view : views) {
    SCOPED_TRACE(view->objectName().toStdString());
    EXPECT_GE(view->height(), view->minimumHeight());
    const QChart* chart = view->chart();
    std::printf("%-26s view %d px (least %d), plot %.0f px, y label %d px\n",
                qPrintable(view->objectName()), view->height(), view->minimumHeight(),
                chart->plotArea().height(),
                QFontMetrics(chart->axes().value(0)->labelsFont()).height());
    for (auto* axis : chart->axes(Qt::Vertical)) {
      const QFontMetrics labels(axis->labelsFont()), title(axis->titleFont());
      const auto* value = qobject_cast<QValueAxis*>(axis);
      const int ticks = value ? value->tickCount() : 6;
      EXPECT_GE(chart->plotArea().height(), ticks * labels.height())
          << chart->title().toStdString() << ": " << ticks << " labels";
      EXPECT_GE(chart->plotArea().height(), title.horizontalAdvance(axis->titleText()))
          << axis->titleText().toStdString();
    }
  }
}

TEST(ChartLayout, MemoryChartsKeepRoomForTheirAxesAtTheirLeastHeight) {
  MemoryChartView view;
  view.resize(480, view.minimumSizeHint().height());
  view.show();
  settle();
  expectRoomForAxes(&view);
  // No data yet: the y axis counts 0 to 1 in fifths, and the panel says why.
  EXPECT_EQ(view.blockAxisY()->min(), 0.0);
  EXPECT_EQ(view.blockAxisY()->max(), 1.0);
  EXPECT_EQ(view.blockAxisY()->labelFormat(), "%.1f");
  EXPECT_TRUE(view.findChild<QLabel*>("memorySummary")->text().contains("No measurement yet"));
}

TEST(ChartLayout, MetricsAndReconstructionChartsKeepRoomForTheirAxes) {
  MetricsChart metrics;
  metrics.resize(480, metrics.minimumSizeHint().height());
  metrics.show();
  ReconstructionView reconstruction;
  reconstruction.resize(480, reconstruction.minimumSizeHint().height());
  reconstruction.show();
  settle();
  expectRoomForAxes(&metrics);
}

TEST(ChartLegend, NamesEverySeriesInFullAndWraps) {
  MemoryChartView view;
  auto* legend = view.findChild<ChartLegend*>("chartLegend");
  ASSERT_NE(legend, nullptr);
  const QStringList full = {"RevUp forward", "RevUp backward", "ResNet+Fixup forward",
                            "ResNet+Fixup backward", "device memory"};
  for (auto* s : {view.revupForward(), view.revupBackward(), view.baselineForward(),
                  view.baselineBackward(), view.deviceTotal()}) {
    EXPECT_TRUE(full.contains(s->name())) << s->name().toStdString();
  }
  EXPECT_EQ(legend->names(), full);
  for (const auto& name : full) {
    EXPECT_TRUE(legend->text().contains(QString(name).replace(' ', "&nbsp;")))
        << name.toStdString();
  }
  EXPECT_FALSE(legend->text().contains(QChar(0x2026)));  // no "…"
  // Qt's own legend, which elides, is not drawn.
  for (auto* chartView : view.findChildren<QChartView*>()) {
    EXPECT_FALSE(chartView->chart()->legend()->isVisible());
  }
  // Narrow: more lines, never a cut name.
  EXPECT_GT(legend->heightForWidth(260), legend->heightForWidth(2000));
  // A renamed series is followed.
  view.model().setBaseline({}, 0.0, "ResNet-20+Fixup");
  view.refresh();
  EXPECT_TRUE(legend->names().contains("ResNet-20+Fixup forward"));
  EXPECT_TRUE(legend->names().contains("ResNet-20+Fixup backward"));
}

TEST(ChartLayout, MemoryIsLabelledInMebibytes) {
  MemoryChartView view;
  view.model().setLatestStep({{0, 1, 0, 10.0}, {1, 1, 0, 12.0}}, 14.0);
  view.refresh();
  EXPECT_TRUE(view.blockAxisY()->titleText().contains("MiB"));
  const QString summary = view.findChild<QLabel*>("memorySummary")->text();
  EXPECT_TRUE(summary.contains("14.0 MiB")) << summary.toStdString();
  EXPECT_FALSE(summary.contains(" MB")) << summary.toStdString();
}

TEST(ChartLayout, TheDefaultLayoutFits1280x800) {
  MainWindow window;
  window.setDefaultLayout(QSize(1280, 800));
  window.show();
  settle();
  EXPECT_EQ(window.size(), QSize(1280, 800));
  for (const char* panel : {"memory", "reconstruction", "metrics"}) {
    SCOPED_TRACE(panel);
    ASSERT_TRUE(window.raisePanel(panel));
    settle();
    auto* dock = window.findChild<QDockWidget*>(QString(panel) + "Dock");
    for (auto* view : dock->findChildren<QChartView*>()) {
      if (view->isVisible()) EXPECT_GE(view->height(), view->minimumHeight());
    }
    if (QString(panel) != "reconstruction") expectRoomForAxes(dock);  // no curves yet there
  }
}

TEST(LabelOverlay, APredictionLeavesBackgroundAndUnlabelledPixelsAsTheyAre) {
  ClassTable classes;
  classes.classes = {{"background", {0, 0, 0}}, {"bus", {128, 0, 0}}};
  ASSERT_EQ(backgroundClass(classes), 0);
  // A 3x1 prediction: background, bus, unlabelled.
  uint8_t ids[3] = {0, 1, kUnlabelled};
  const LabelPlane plane{ids, 1, 3, 3, 1};
  QImage photo(3, 1, QImage::Format_ARGB32_Premultiplied);
  photo.fill(QColor(200, 150, 100));
  QImage overlay(3, 1, QImage::Format_ARGB32_Premultiplied);
  renderOverlay(overlay, QRect(0, 0, 3, 1), plane, QPointF(0, 0), 1.0, 1.0,
                overlayColors(classes, 0.5, BackgroundTint::Clear));
  QImage shown = photo;
  QPainter(&shown).drawImage(0, 0, overlay);
  EXPECT_EQ(shown.pixel(0, 0), photo.pixel(0, 0));  // background: the image itself
  EXPECT_NE(shown.pixel(1, 0), photo.pixel(1, 0));  // bus: tinted
  EXPECT_EQ(shown.pixel(2, 0), photo.pixel(2, 0));  // unlabelled: the image itself
  // Painted labels show background strokes; a table without a background
  // class tints its class 0 like any other.
  EXPECT_NE(overlayColors(classes, 0.5)[0], 0u);
  classes.classes[0].name = "water";
  EXPECT_EQ(backgroundClass(classes), -1);
  EXPECT_NE(overlayColors(classes, 0.5, BackgroundTint::Clear)[0], 0u);
  classes.classes[0].name = "_background_";  // labelme's name for it
  EXPECT_EQ(backgroundClass(classes), 0);
}

}  // namespace
}  // namespace revup::ui
