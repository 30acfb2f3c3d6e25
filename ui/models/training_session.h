#pragma once
// The training job (ui/models/training_job.h) in a worker thread, reporting through
// Qt signals. Nothing here blocks the GUI thread: Start returns at once,
// Pause and Stop take effect between steps, and the memory samples of a step
// arrive as one signal per step (never one per block), so a fast model cannot
// flood the event loop.
#include <QMutex>
#include <QObject>
#include <QVector>
#include <QWaitCondition>

#include <memory>

#include "ui/models/background_task.h"
#include "ui/models/training_job.h"

namespace revup::ui {

// Allocated bytes after one block of a step, above what was live before it.
struct MemorySample {
  int phase = 0;  // 0 forward, 1 backward
  int stage = 0, block = 0;
  double megabytes = 0.0;
};

struct StepSummary {
  int epoch = 0;
  qint64 step = 0, stepsInEpoch = 0;
  double loss = 0.0, seconds = 0.0;
  // The whole step's own allocator peak: weights, gradients, optimizer state
  // and what forward, backward and the optimizer's step allocate on top.
  double peakMegabytes = 0.0;
};

struct EpochSummary {
  int epoch = 0;
  double loss = 0.0, seconds = 0.0;
  std::map<std::string, double> metrics;
};

using SnapshotPtr = std::shared_ptr<const ModelSnapshot>;

class TrainingSession : public QObject {
  Q_OBJECT

 public:
  explicit TrainingSession(QObject* parent = nullptr);
  ~TrainingSession() override;  // stops and joins the worker

  bool isRunning() const;
  bool isPaused() const;

 public Q_SLOTS:
  // Ignored while a run is going. Errors arrive as failed().
  void start(revup::ui::TrainingJobInput input);
  void pause();
  void resume();
  // After the current step; last.pt keeps the last completed epoch.
  void stop();
  // Blocks until the worker has ended (for closing the window); what it
  // reports afterwards still arrives through the event loop.
  void wait();

 Q_SIGNALS:
  void started();
  void stepFinished(revup::ui::StepSummary step, QVector<revup::ui::MemorySample> memory);
  void epochFinished(revup::ui::EpochSummary epoch);
  void baselineMeasured(QVector<revup::ui::MemorySample> memory, double peakMegabytes);
  void snapshotReady(revup::ui::SnapshotPtr snapshot);
  void pausedChanged(bool paused);
  // completed: all epochs ran (false: stopped).
  void finished(bool completed);
  void failed(QString message);

 private:
  class Observer;
  bool waitWhilePaused();  // worker side; true when stopped

  mutable QMutex mutex_;
  QWaitCondition resumed_;
  bool paused_ = false, stopRequested_ = false;
  QPointer<BackgroundTask> task_;
};

// One list per step: the events of a MemoryRecording as samples.
QVector<MemorySample> memorySamples(const std::vector<MemoryEvent>& events, qint64 baselineBytes);

}  // namespace revup::ui

Q_DECLARE_METATYPE(revup::ui::MemorySample)
Q_DECLARE_METATYPE(revup::ui::StepSummary)
Q_DECLARE_METATYPE(revup::ui::EpochSummary)
Q_DECLARE_METATYPE(revup::ui::SnapshotPtr)
Q_DECLARE_METATYPE(revup::ui::TrainingJobInput)
