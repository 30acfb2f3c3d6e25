#pragma once
// The widgets and state of the main window's training half.
#include <QDockWidget>
#include <QElapsedTimer>
#include <QStringList>

#include <atomic>
#include <memory>

#include "ui/memory_chart_view.h"
#include "ui/metrics_chart.h"
#include "ui/reconstruction_view.h"
#include "ui/training_panel.h"
#include "ui/training_session.h"

QT_BEGIN_NAMESPACE
class QTableWidget;
QT_END_NAMESPACE

namespace revup::ui {

struct TrainingParts {
  TrainingPanel* panel = nullptr;
  MemoryChartView* memory = nullptr;
  ReconstructionView* reconstruction = nullptr;
  MetricsChart* metrics = nullptr;
  QTableWidget* classIou = nullptr;
  TrainingSession* session = nullptr;

  TrainingJobInput current;  // what the running (or last) session trains on
  SnapshotPtr latest;        // the model after the latest epoch
  // Volumes: the latest model's own copy for slice predictions on the pool
  // (the reconstruction panel runs the snapshot's), and a counter that lets
  // only the newest request show its result.
  SegmentationNet slicePredictor{nullptr};
  std::shared_ptr<std::atomic<int>> slicePrediction = std::make_shared<std::atomic<int>>(0);
  // What the last slice prediction was asked for (window/level changes keep it).
  int predictedAxis = -1, predictedSlice = -1;
  const ModelSnapshot* predictedFrom = nullptr;
  QStringList runs;  // this project's run folders
  QElapsedTimer sinceMemoryRedraw, sinceReconstruction;
  double secondsPerEpoch = 0.0;
  int epochsThisSession = 0;
  // The session (a child of the window) stops and joins its worker when the
  // window deletes it: ~TrainingSession.
};

}  // namespace revup::ui
