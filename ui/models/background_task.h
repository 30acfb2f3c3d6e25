#pragma once
// One way to run work off the GUI thread, in the spirit of QGIS's QgsTask:
// the work runs on a pool thread with a cancel flag and a progress callback,
// and its result comes back on the GUI thread. A task whose context object
// has gone (a closed window or dialog), or that was cancelled, delivers
// nothing: no dangling `this`, no stale picture. LatestTask keeps the newest
// of a kind, so that a request superseded by another (the next slice, the
// next reconstruction) is cancelled and its result dropped.
#include <QObject>
#include <QPointer>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace revup::ui {

class BackgroundTask;

// What the work sees of its task.
class TaskContext {
 public:
  bool isCanceled() const { return canceled_->load(); }
  // Reported on the GUI thread as BackgroundTask::progressChanged.
  void setProgress(int done, int total) const;

 private:
  friend class BackgroundTask;
  std::shared_ptr<std::atomic<bool>> canceled_;
  QPointer<BackgroundTask> task_;
};

class BackgroundTask : public QObject {
  Q_OBJECT

 public:
  enum class Kind {
    kShort,  // seconds: the shared thread pool
    kLong,   // minutes to hours (training): a thread of its own, never starving the pool
  };

  // Runs work(context) and then, on the GUI thread, done(result), or
  // failed(message) when it threw; neither when cancelled or when `context`
  // is gone. The task is a child of `context` (which cancels it when it
  // goes) and deletes itself after finished().
  template <class Result>
  static BackgroundTask* start(QObject* context, std::function<Result(TaskContext&)> work,
                               std::function<void(Result)> done,
                               std::function<void(const QString&)> failed = {},
                               Kind kind = Kind::kShort);

  ~BackgroundTask() override { cancel(); }

  // The work sees it at its next isCanceled(); its result is dropped.
  void cancel() { canceled_->store(true); }
  bool isCanceled() const { return canceled_->load(); }
  // Blocks until the work itself has returned (for closing a window on a
  // long task); what it delivers afterwards is dropped if the context went.
  void waitForWork();
  bool isWorkDone() const;

 Q_SIGNALS:
  void progressChanged(int done, int total);
  // Always, last: after done or failed, or cancelled (isCanceled() then).
  void finished();

 private:
  BackgroundTask(QObject* context, Kind kind);
  // `work` returns what to run on the GUI thread.
  void run(std::function<std::function<void()>(TaskContext&)> work);

  Kind kind_;
  std::shared_ptr<std::atomic<bool>> canceled_ = std::make_shared<std::atomic<bool>>(false);
  struct Done;
  std::shared_ptr<Done> done_;
};

// The newest task of one kind: starting another cancels the one before.
class LatestTask {
 public:
  ~LatestTask() { cancel(); }
  template <class Result>
  BackgroundTask* start(QObject* context, std::function<Result(TaskContext&)> work,
                        std::function<void(Result)> done,
                        std::function<void(const QString&)> failed = {}) {
    cancel();
    current_ =
        BackgroundTask::start<Result>(context, std::move(work), std::move(done), std::move(failed));
    return current_;
  }
  void cancel() {
    if (current_) current_->cancel();
  }

 private:
  QPointer<BackgroundTask> current_;
};

template <class Result>
BackgroundTask* BackgroundTask::start(QObject* context, std::function<Result(TaskContext&)> work,
                                      std::function<void(Result)> done,
                                      std::function<void(const QString&)> failed, Kind kind) {
  auto* task = new BackgroundTask(context, kind);
  task->run([work = std::move(work), done = std::move(done),
             failed = std::move(failed)](TaskContext& c) mutable -> std::function<void()> {
    try {
      auto result = std::make_shared<Result>(work(c));
      return [done, result] {
        if (done) done(std::move(*result));
      };
    } catch (const std::exception& e) {
      const QString message = QString::fromStdString(e.what());
      return [failed, message] {
        if (failed) failed(message);
      };
    }
  });
  return task;
}

}  // namespace revup::ui
