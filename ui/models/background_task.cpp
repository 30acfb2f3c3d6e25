#include "ui/models/background_task.h"

#include <QCoreApplication>
#include <QThread>
#include <QThreadPool>

#include <cerrno>
#include <condition_variable>
#include <mutex>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace revup::ui {
namespace {

// Background work (training, and the reconstructions each snapshot starts)
// can keep every core busy. At the same priority the GUI thread waited for a
// time slice behind it: a paint of a millisecond took 15-30 ms right after a
// snapshot, and the event loop stalled over 50 ms. A higher nice value for
// the worker threads, set before their first parallel region so that the
// intra-op threads they create inherit it, gives the GUI a core whenever it
// wants one and costs the work nothing while the GUI is idle. (Pool threads
// keep it for later tasks: they only run background work.) Beside the pool
// of our own below, it halved the ticks later than 16 ms in four 8 s soaks
// (3-6 instead of 9-11; the largest lateness 26-31 ms instead of 28-44 ms),
// with as many epochs trained.
constexpr int kBackgroundNice = 10;

void lowerThisThreadsPriority() {
#ifdef __linux__
  // On Linux the nice value is per thread: PRIO_PROCESS with a thread id.
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && current < kBackgroundNice) setpriority(PRIO_PROCESS, tid, kBackgroundNice);
#endif
}

// Our own pool, not QThreadPool::globalInstance(): Qt's raster engine hands
// parts of a paint (QRasterPaintEngine::drawLines and other fills) to the
// global pool and waits for them on a semaphore. With our reconstructions
// filling it (two threads on two cores) a progress bar's paint waited
// 20-35 ms behind them, and the event loop stalled over 50 ms.
QThreadPool& backgroundPool() {
  // Destroyed at exit like the global pool: its destructor waits for the tasks.
  static QThreadPool pool;
  return pool;
}

}  // namespace

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
    lowerThisThreadsPriority();
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
    backgroundPool().start(std::move(body));
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
