#include "ui/models/training_session.h"

#include "core/memory_tracker.h"

namespace revup::ui {
namespace {

void registerTypes() {
  static const bool once = [] {
    qRegisterMetaType<MemorySample>();
    qRegisterMetaType<QVector<MemorySample>>();
    qRegisterMetaType<StepSummary>();
    qRegisterMetaType<EpochSummary>();
    qRegisterMetaType<SnapshotPtr>();
    qRegisterMetaType<TrainingJobInput>();
    return true;
  }();
  (void)once;
}

}  // namespace

QVector<MemorySample> memorySamples(const std::vector<MemoryEvent>& events, qint64 baselineBytes) {
  QVector<MemorySample> samples;
  samples.reserve(static_cast<int>(events.size()));
  for (const auto& e : events) {
    samples.push_back({e.phase == Phase::kForward ? 0 : 1, e.stage, e.block,
                       to_mib(e.live_bytes - baselineBytes)});
  }
  return samples;
}

// Runs on the worker thread: collects a step's memory events and emits them
// with the step, once.
class TrainingSession::Observer : public TrainingJobObserver {
 public:
  explicit Observer(TrainingSession& session) : s_(session) {}

  void on_memory(const MemoryEvent& e) override { events_.push_back(e); }
  void on_step(const StepReport& r) override {
    const StepSummary step{r.epoch, r.step,    r.steps_in_epoch,
                           r.loss,  r.seconds, to_mib(r.whole_step_own_bytes())};
    Q_EMIT s_.stepFinished(step, memorySamples(events_, r.live_before_bytes));
    events_.clear();
  }
  void on_epoch(const EpochReport& r) override {
    Q_EMIT s_.epochFinished({r.epoch, r.train_loss, r.seconds, r.metrics});
  }
  void on_baseline(const StepMeasurement& m) override {
    Q_EMIT s_.baselineMeasured(memorySamples(m.timeline, m.live_before_bytes),
                               to_mib(m.whole_step_own_bytes()));
  }
  void on_snapshot(std::shared_ptr<const ModelSnapshot> snapshot) override {
    Q_EMIT s_.snapshotReady(std::move(snapshot));
  }
  bool cancel_requested() override { return s_.waitWhilePaused(); }

 private:
  TrainingSession& s_;
  std::vector<MemoryEvent> events_;
};

TrainingSession::TrainingSession(QObject* parent) : QObject(parent) { registerTypes(); }

TrainingSession::~TrainingSession() {
  stop();
  wait();
}

bool TrainingSession::isRunning() const { return task_ && !task_->isWorkDone(); }

bool TrainingSession::isPaused() const {
  QMutexLocker lock(&mutex_);
  return paused_;
}

void TrainingSession::start(TrainingJobInput input) {
  if (isRunning()) return;
  {
    QMutexLocker lock(&mutex_);
    paused_ = stopRequested_ = false;
  }
  // Stop and Pause reach the job through its observer between steps, not
  // through the task's cancel flag: a stopped run still saves and reports.
  task_ = BackgroundTask::start<bool>(
      this,
      [this, input = std::move(input)](TaskContext&) {
        Observer observer(*this);
        return runTrainingJob(input, observer);
      },
      [this](bool completed) { Q_EMIT finished(completed); },
      [this](const QString& message) {
        Q_EMIT failed(message);
        Q_EMIT finished(false);
      },
      BackgroundTask::Kind::kLong);
  Q_EMIT started();
}

void TrainingSession::pause() {
  {
    QMutexLocker lock(&mutex_);
    if (paused_ || !isRunning()) return;
    paused_ = true;
  }
  Q_EMIT pausedChanged(true);
}

void TrainingSession::resume() {
  {
    QMutexLocker lock(&mutex_);
    if (!paused_) return;
    paused_ = false;
    resumed_.wakeAll();
  }
  Q_EMIT pausedChanged(false);
}

void TrainingSession::stop() {
  QMutexLocker lock(&mutex_);
  stopRequested_ = true;
  paused_ = false;
  resumed_.wakeAll();
}

void TrainingSession::wait() {
  if (task_) task_->waitForWork();
}

bool TrainingSession::waitWhilePaused() {
  QMutexLocker lock(&mutex_);
  while (paused_ && !stopRequested_) resumed_.wait(&mutex_);
  return stopRequested_;
}

}  // namespace revup::ui
