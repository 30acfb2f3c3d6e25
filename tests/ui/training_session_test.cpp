// The worker: training runs off the GUI thread, memory arrives once per step
// with one sample per block per phase, Pause holds it between steps, Stop ends
// it, errors arrive as a signal; and the panels that show it.
#include <QChartView>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QValueAxis>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/ui/training_test_util.h"
#include "ui/charts/chart_points.h"
#include "ui/models/training_session.h"
#include "ui/widgets/memory_chart_view.h"
#include "ui/widgets/metrics_chart.h"

namespace revup::ui {
namespace {

TrainingJobInput sessionJob(const QString& runDir, int epochs) {
  return testing::sceneJob(testing::labelledScene(48), runDir, epochs);
}

TEST(TrainingSession, ReportsFromAWorkerAndPausesResumesStops) {
  QTemporaryDir dir;
  TrainingSession session;
  QSignalSpy steps(&session, &TrainingSession::stepFinished);
  QSignalSpy epochs(&session, &TrainingSession::epochFinished);
  QSignalSpy baseline(&session, &TrainingSession::baselineMeasured);
  QSignalSpy snapshots(&session, &TrainingSession::snapshotReady);
  QSignalSpy finished(&session, &TrainingSession::finished);
  std::vector<Qt::HANDLE> stepThreads;
  QObject::connect(&session, &TrainingSession::stepFinished, &session,
                   [&] { stepThreads.push_back(QThread::currentThreadId()); });

  // The event loop never waits on the worker: measure the longest gap between
  // two timer ticks while it trains.
  QElapsedTimer sinceTick;
  qint64 longestStall = 0;
  QTimer ticker;
  QObject::connect(&ticker, &QTimer::timeout,
                   [&] { longestStall = std::max(longestStall, sinceTick.restart()); });

  session.start(sessionJob(dir.filePath("run"), 1000));
  sinceTick.start();
  ticker.start(5);
  ASSERT_TRUE(testing::waitFor([&] { return steps.count() >= 3; }));
  ticker.stop();
  std::printf("longest event-loop stall while training: %lld ms\n",
              static_cast<long long>(longestStall));
  EXPECT_LT(longestStall, 50);
  for (auto id : stepThreads) EXPECT_EQ(id, QThread::currentThreadId());  // delivered to the GUI

  ASSERT_EQ(baseline.count(), 1);
  const auto baselineSamples = baseline.first().at(0).value<QVector<MemorySample>>();
  const auto samples = steps.first().at(1).value<QVector<MemorySample>>();
  ASSERT_FALSE(samples.isEmpty());
  const auto forwardCount = [](const QVector<MemorySample>& v) {
    return std::count_if(v.begin(), v.end(), [](const MemorySample& s) { return s.phase == 0; });
  };
  // Same blocks forward. Backward, plain autograd marks a block when its
  // input's gradient arrives, and the image needs none: ResNet+Fixup's curve
  // has no point for the stem's backward, MemSave's stage marks it itself.
  EXPECT_EQ(forwardCount(samples), forwardCount(baselineSamples));
  EXPECT_EQ(forwardCount(samples) * 2, samples.size());
  EXPECT_EQ(forwardCount(baselineSamples) * 2 - 1, baselineSamples.size());
  EXPECT_GE(snapshots.count(), 1);

  session.pause();
  EXPECT_TRUE(session.isPaused());
  testing::waitFor([] { return false; }, 300);  // a step in flight may still finish
  const int whenPaused = steps.count();
  testing::waitFor([] { return false; }, 1500);
  EXPECT_EQ(steps.count(), whenPaused) << "a paused session must not train";
  session.resume();
  ASSERT_TRUE(testing::waitFor([&] { return steps.count() > whenPaused; }));

  session.stop();
  ASSERT_TRUE(testing::waitFor([&] { return finished.count() == 1; }));
  EXPECT_FALSE(finished.first().at(0).toBool());
  session.wait();
  EXPECT_FALSE(session.isRunning());
}

TEST(TrainingSession, ErrorsArriveAsASignal) {
  QTemporaryDir dir;
  TrainingSession session;
  QSignalSpy failed(&session, &TrainingSession::failed);
  QSignalSpy finished(&session, &TrainingSession::finished);
  auto job = sessionJob(dir.filePath("run"), 1);
  job.labels = torch::full_like(job.labels, 255);  // nothing painted
  session.start(job);
  ASSERT_TRUE(testing::waitFor([&] { return finished.count() == 1; }));
  ASSERT_EQ(failed.count(), 1);
  EXPECT_TRUE(failed.first().at(0).toString().contains("nothing is labelled"));
}

TEST(MemoryChart, HoldsOnePointPerBlockPerPhase) {
  QVector<MemorySample> revup, resnet;
  const int blocks = 6;
  for (int b = 0; b < blocks; ++b) {
    revup.push_back({0, 1, b, 10.0 + 0.1 * b});          // flat
    resnet.push_back({0, 1, b, 10.0 + 20.0 * (b + 1)});  // grows with depth
  }
  for (int b = blocks - 1; b >= 0; --b) {
    revup.push_back({1, 1, b, 12.0});
    resnet.push_back({1, 1, b, 10.0 + 20.0 * b});
  }
  MemoryChartView view;
  view.model().setLatestStep(revup, 14.0);
  view.model().setLatestStep(revup, 13.0);
  view.model().setBaseline(resnet, 130.0);
  view.model().setDeviceTotalMegabytes(200.0);
  view.refresh();
  EXPECT_EQ(view.revupForward()->count(), blocks);
  EXPECT_EQ(view.revupBackward()->count(), blocks);
  EXPECT_EQ(view.baselineForward()->count(), blocks);
  EXPECT_EQ(view.baselineBackward()->count(), blocks);
  EXPECT_EQ(view.peaks()->count(), 2);  // one point per step
  // x continues from forward into backward, in the order sampled.
  EXPECT_EQ(view.revupForward()->at(blocks - 1).x(), blocks - 1);
  EXPECT_EQ(view.revupBackward()->at(0).x(), blocks);
  EXPECT_DOUBLE_EQ(view.model().maxMegabytes(), 130.0);
  EXPECT_EQ(view.deviceTotal()->count(), 2);  // 200 MB: on the curves' scale

  // 24 GB of RAM would flatten the curves: off the scale unless asked for.
  view.model().setDeviceTotalMegabytes(24000.0);
  view.refresh();
  EXPECT_EQ(view.deviceTotal()->count(), 0);
  EXPECT_LT(view.blockAxisY()->max(), 1000.0);
  EXPECT_TRUE(view.findChild<QLabel*>("memorySummary")->text().contains("off this scale"));
  view.findChild<QCheckBox*>("deviceScaleCheck")->setChecked(true);
  EXPECT_EQ(view.deviceTotal()->count(), 2);
  EXPECT_GE(view.blockAxisY()->max(), 24000.0);
}

TEST(MetricsChart, SmoothsLikeTensorBoard) {
  const QVector<QPointF> raw = {{1, 1.0}, {2, 0.0}, {3, 1.0}};
  const auto none = smoothed(raw, 0.0);
  EXPECT_DOUBLE_EQ(none[1].y(), 0.0);
  const auto half = smoothed(raw, 0.5);
  EXPECT_DOUBLE_EQ(half[0].y(), 1.0);  // debiased: the first value is itself
  EXPECT_NEAR(half[1].y(), (0.5 * 0.5 * 1.0 + 0.5 * 0.0) / (1 - 0.25), 1e-12);
  MetricsChart chart;
  chart.addEpoch(1, 2.0, {{"miou", 0.1}});
  chart.addEpoch(2, 1.0, {{"miou", 0.4}});
  chart.addEpoch(3, std::nan(""), {});
  EXPECT_EQ(chart.lossPoints().size(), 2);
  EXPECT_EQ(chart.miouPoints().size(), 2);
}

TEST(MetricsChart, KeepsEarlierRunsAsTheirOwnCurves) {
  MetricsChart chart;
  chart.startRun("run-001");
  chart.addEpoch(1, 2.0, {{"miou", 0.1}});
  chart.addEpoch(2, 1.5, {{"miou", 0.3}});
  chart.startRun("run-002");
  EXPECT_TRUE(chart.lossPoints().isEmpty());
  ASSERT_EQ(chart.earlierRuns().size(), 1);
  EXPECT_EQ(chart.earlierRuns()[0].name, "run-001");
  EXPECT_EQ(chart.earlierRuns()[0].loss.size(), 2);
  EXPECT_EQ(chart.earlierRuns()[0].miou.size(), 2);
  chart.startRun("run-003");  // run-002 had no epoch: nothing to keep
  EXPECT_EQ(chart.earlierRuns().size(), 1);

  auto* list = chart.findChild<QListWidget*>("runList");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->count(), 2);  // the current run and run-001
  EXPECT_EQ(chart.visibleEarlierRuns(), 1);
  list->item(1)->setCheckState(Qt::Unchecked);
  EXPECT_EQ(chart.visibleEarlierRuns(), 0);
  int visibleSeries = 0;
  for (auto* s : chart.findChild<QChartView*>()->chart()->series()) visibleSeries += s->isVisible();
  EXPECT_EQ(visibleSeries, 4);  // the current run's raw and smoothed loss and mIoU
}

// A long run: the chart draws at most two points per bucket of each
// curve (chart_points.h), the newest epoch always among them, while the run
// keeps every epoch's value.
TEST(MetricsChart, DrawsABoundedNumberOfPointsHoweverLongTheRun) {
  MetricsChart chart;
  constexpr int kEpochs = 5000;
  for (int e = 1; e <= kEpochs; ++e) {
    chart.addEpoch(e, 1.0 / e + 0.1 * ((e * 7919) % 13) / 13.0, {{"miou", (e % 100) / 100.0}});
  }
  EXPECT_EQ(chart.lossPoints().size(), kEpochs);
  const auto series = chart.findChild<QChartView*>()->chart()->series();
  ASSERT_EQ(series.size(), 4);
  for (auto* s : series) {
    auto* line = qobject_cast<QLineSeries*>(s);
    ASSERT_NE(line, nullptr);
    EXPECT_LE(line->count(), 2 * kChartBuckets + 2) << line->name().toStdString();
    EXPECT_GE(line->count(), kChartBuckets) << line->name().toStdString();
    EXPECT_EQ(line->at(line->count() - 1).x(), kEpochs) << line->name().toStdString();
    EXPECT_EQ(line->at(0).x(), 1) << line->name().toStdString();
  }
}

TEST(ChartPoints, TheEnvelopeKeepsEachBucketsLowestAndHighestInOrder) {
  QVector<QPointF> points;
  for (int i = 0; i < 10000; ++i) points.push_back(QPointF(i, std::sin(i * 0.37) * (1 + i % 7)));
  points[5000].setY(100.0);  // a spike the chart must not lose
  points[7321].setY(-100.0);
  const auto envelope = minMaxEnvelope(points, 100);
  ASSERT_LE(envelope.size(), 202);
  EXPECT_EQ(envelope.front(), points.front());
  EXPECT_EQ(envelope.back(), points.back());
  for (int i = 1; i < envelope.size(); ++i) EXPECT_LT(envelope[i - 1].x(), envelope[i].x());
  // Each bucket of 100 consecutive points: its extremes are drawn.
  for (int b = 0; b < 100; ++b) {
    double low = 1e9, high = -1e9;
    for (int i = b * 100; i < (b + 1) * 100; ++i) {
      low = std::min(low, points[i].y());
      high = std::max(high, points[i].y());
    }
    bool hasLow = false, hasHigh = false;
    for (const auto& p : envelope) {
      if (p.x() >= b * 100 && p.x() < (b + 1) * 100) {
        hasLow |= p.y() == low;
        hasHigh |= p.y() == high;
      }
    }
    EXPECT_TRUE(hasLow && hasHigh) << "bucket " << b;
  }
  const QVector<QPointF> few = {{0, 1}, {1, 2}, {2, 0}};
  EXPECT_EQ(minMaxEnvelope(few, 100), few);
}

}  // namespace
}  // namespace revup::ui
