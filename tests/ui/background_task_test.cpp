// The one way the GUI runs background work: results come back on the GUI
// thread, a cancelled task or one whose context has gone delivers nothing,
// progress arrives in order, errors arrive as messages, and of two requests
// of a kind only the newest shows.
#include <QCoreApplication>
#include <QThread>
#include <QThreadPool>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "tests/ui/training_test_util.h"
#include "ui/models/background_task.h"

namespace revup::ui {
namespace {

using testing::waitFor;

TEST(BackgroundTask, DeliversOnTheGuiThreadWithProgress) {
  QObject context;
  std::atomic<bool> ranOffTheGuiThread{false};
  int result = 0, progressCalls = 0, lastDone = -1, finishedCalls = 0;
  bool onGuiThread = false;
  auto* task = BackgroundTask::start<int>(
      &context,
      [&](TaskContext& c) {
        ranOffTheGuiThread = QThread::currentThread() != qApp->thread();
        for (int i = 1; i <= 3; ++i) c.setProgress(i, 3);
        return 42;
      },
      [&](int r) {
        result = r;
        onGuiThread = QThread::currentThread() == qApp->thread();
      });
  QObject::connect(task, &BackgroundTask::progressChanged, [&](int done, int total) {
    EXPECT_EQ(total, 3);
    EXPECT_GT(done, lastDone);
    lastDone = done;
    ++progressCalls;
  });
  QObject::connect(task, &BackgroundTask::finished, [&] { ++finishedCalls; });
  ASSERT_TRUE(waitFor([&] { return finishedCalls == 1; }, 10000));
  EXPECT_TRUE(ranOffTheGuiThread);
  EXPECT_TRUE(onGuiThread);
  EXPECT_EQ(result, 42);
  EXPECT_EQ(progressCalls, 3);
}

TEST(BackgroundTask, ACancelledTaskDeliversNothingAndItsWorkSeesTheFlag) {
  QObject context;
  std::atomic<bool> started{false}, sawCancel{false};
  bool delivered = false, finished = false, canceledAtFinish = false;
  auto* task = BackgroundTask::start<int>(
      &context,
      [&](TaskContext& c) {
        started = true;
        while (!c.isCanceled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        sawCancel = true;
        return 1;
      },
      [&](int) { delivered = true; });
  QObject::connect(task, &BackgroundTask::finished, [&, task] {
    finished = true;
    canceledAtFinish = task->isCanceled();
  });
  ASSERT_TRUE(waitFor([&] { return started.load(); }, 10000));
  task->cancel();
  ASSERT_TRUE(waitFor([&] { return finished; }, 10000));
  EXPECT_TRUE(sawCancel);
  EXPECT_TRUE(canceledAtFinish);
  EXPECT_FALSE(delivered);
}

TEST(BackgroundTask, AContextThatGoesCancelsAndDropsTheResult) {
  auto context = std::make_unique<QObject>();
  std::atomic<bool> started{false}, release{false}, sawCancel{false};
  bool delivered = false;
  BackgroundTask::start<int>(
      context.get(),
      [&](TaskContext& c) {
        started = true;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        sawCancel = c.isCanceled();
        return 1;
      },
      [&](int) { delivered = true; });
  ASSERT_TRUE(waitFor([&] { return started.load(); }, 10000));
  context.reset();  // the window closes: its task goes with it
  release = true;
  waitFor([] { return false; }, 300);  // let a (wrong) delivery arrive
  EXPECT_TRUE(sawCancel);
  EXPECT_FALSE(delivered);
}

TEST(BackgroundTask, AnErrorArrivesAsItsMessage) {
  QObject context;
  QString message;
  bool delivered = false;
  BackgroundTask::start<int>(
      &context, [](TaskContext&) -> int { throw std::runtime_error("scene.png: truncated"); },
      [&](int) { delivered = true; }, [&](const QString& m) { message = m; });
  ASSERT_TRUE(waitFor([&] { return !message.isEmpty(); }, 10000));
  EXPECT_EQ(message, "scene.png: truncated");
  EXPECT_FALSE(delivered);
}

TEST(LatestTask, OnlyTheNewestRequestShows) {
  QObject context;
  LatestTask latest;
  std::atomic<bool> firstStarted{false}, releaseFirst{false};
  std::vector<int> shown;
  latest.start<int>(
      &context,
      [&](TaskContext&) {
        firstStarted = true;
        while (!releaseFirst) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 1;  // finishes last: must not overwrite the newer answer
      },
      [&](int r) { shown.push_back(r); });
  ASSERT_TRUE(waitFor([&] { return firstStarted.load(); }, 10000));
  latest.start<int>(
      &context, [](TaskContext&) { return 2; }, [&](int r) { shown.push_back(r); });
  ASSERT_TRUE(waitFor([&] { return !shown.empty(); }, 10000));
  releaseFirst = true;
  waitFor([] { return false; }, 300);
  EXPECT_EQ(shown, std::vector<int>{2});
}

TEST(BackgroundTask, ALongTaskWaitsForItsWork) {
  QObject context;
  std::atomic<bool> release{false};
  auto* task = BackgroundTask::start<int>(
      &context,
      [&](TaskContext&) {
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 7;
      },
      {}, {}, BackgroundTask::Kind::kLong);
  EXPECT_FALSE(task->isWorkDone());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
  });
  task->waitForWork();
  EXPECT_TRUE(task->isWorkDone());
  releaser.join();
}

// Qt's raster engine hands parts of a paint to the global pool and waits for
// them: background work there made the GUI's paints wait (event-loop stalls
// over 50 ms). Both kinds of task run elsewhere, below the GUI's priority.
TEST(BackgroundTask, RunsOutsideQtsGlobalPoolBelowTheGuisPriority) {
  for (const auto kind : {BackgroundTask::Kind::kShort, BackgroundTask::Kind::kLong}) {
    QObject context;
    std::atomic<int> inGlobalPool{-1}, nice{-100};
    auto* task = BackgroundTask::start<int>(
        &context,
        [&](TaskContext&) {
          inGlobalPool = QThreadPool::globalInstance()->contains(QThread::currentThread());
#ifdef __linux__
          nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
#endif
          return 0;
        },
        {}, {}, kind);
    task->waitForWork();
    EXPECT_EQ(inGlobalPool, 0);
#ifdef __linux__
    EXPECT_GT(nice, getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid))));
#endif
  }
}

}  // namespace
}  // namespace revup::ui
