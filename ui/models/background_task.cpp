#include "ui/models/background_task.h"

#include <QCoreApplication>
#include <QThread>
#include <QThreadPool>

#include <condition_variable>
#include <mutex>

namespace revup::ui {

struct BackgroundTask::Done {
  std::mutex mutex;
  std::condition_variable changed;
  bool workReturned = false;
};

void TaskContext::setProgress(int done, int total) const {
  QPointer<BackgroundTask> task = task_;
  auto canceled = canceled_;
  QMetaObject::invokeMethod(QCoreApplication::instance(), [task, canceled, done, total] {
    if (task && !canceled->load()) Q_EMIT task->progressChanged(done, total);
  });
}

BackgroundTask::BackgroundTask(QObject* context, Kind kind)
    : QObject(context), kind_(kind), done_(std::make_shared<Done>()) {}

void BackgroundTask::run(std::function<std::function<void()>(TaskContext&)> work) {
  TaskContext context;
  context.canceled_ = canceled_;
  context.task_ = this;
  auto done = done_;
  auto body = [context, done, work = std::move(work)]() mutable {
    std::function<void()> deliver;
    if (!context.isCanceled()) deliver = work(context);
    {
      std::lock_guard<std::mutex> lock(done->mutex);
      done->workReturned = true;
    }
    done->changed.notify_all();
    QPointer<BackgroundTask> task = context.task_;
    auto canceled = context.canceled_;
    // Posted to the application object, which outlives every task: the task
    // itself may be deleted (with its context) before this runs.
    QMetaObject::invokeMethod(QCoreApplication::instance(), [task, canceled, deliver] {
      if (!task) return;
      if (!canceled->load() && deliver) deliver();
      Q_EMIT task->finished();
      task->deleteLater();
    });
  };
  if (kind_ == Kind::kLong) {
    QThread* thread = QThread::create(std::move(body));
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
  } else {
    QThreadPool::globalInstance()->start(std::move(body));
  }
}

bool BackgroundTask::isWorkDone() const {
  std::lock_guard<std::mutex> lock(done_->mutex);
  return done_->workReturned;
}

void BackgroundTask::waitForWork() {
  std::unique_lock<std::mutex> lock(done_->mutex);
  done_->changed.wait(lock, [&] { return done_->workReturned; });
}

}  // namespace revup::ui
