#include "ui/widgets/soak_session.h"

#include <QApplication>
#include <QDockWidget>
#include <QTimer>
#include <QWidget>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "core/atomic_file.h"
#include "ui/models/event_loop_watchdog.h"
#include "ui/models/log.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/training_panel.h"

namespace revup::ui {
namespace {

struct SoakState {
  int seconds = 0;
  QString reportPath;
  int epochs = 0;
  bool stoppedEarly = false;
  bool finished = false;
};

nlohmann::json statsJson(const EventLoopStats& s) {
  nlohmann::json late;
  for (size_t i = 0; i < s.lateOver.size(); ++i) {
    late[std::to_string(EventLoopWatchdog::kLatenessBucketsMs[i])] = s.lateOver[i];
  }
  return {{"ticks", s.ticks},
          {"max_lateness_ms", s.maxLatenessMs},
          {"stalls_over_50ms", s.stalls},
          {"ticks_later_than_ms", late}};
}

void finish(SoakState& state, const EventLoopWatchdog& watchdog, MainWindow& window) {
  if (state.finished) return;
  state.finished = true;
  window.pauseTraining();
  const auto stats = watchdog.stats();
  const nlohmann::json report = {{"seconds", stats.seconds},
                                 {"requested_seconds", state.seconds},
                                 {"epochs", state.epochs},
                                 {"training_stopped_early", state.stoppedEarly},
                                 {"timer_interval_ms", watchdog.intervalMs()},
                                 {"event_loop", statsJson(stats)},
                                 {"input_events", stats.inputEvents}};
  int code = state.stoppedEarly ? 1 : 0;
  try {
    write_text_atomically(state.reportPath.toStdString(), report.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "revup: %s\n", e.what());
    code = 1;
  }
  QApplication::exit(code);
}

}  // namespace

bool startSoak(MainWindow& window, int seconds, const QString& reportPath) {
  auto* panel = window.findChild<TrainingPanel*>();
  TrainingSettings settings;
  settings.epochs = 1000000;  // the deadline ends the session, not the epochs
  panel->setSettings(settings);

  // Both panels showing: the reconstruction dock floats at the window's right.
  window.raisePanel("memory");
  if (auto* recon = window.findChild<QDockWidget*>("reconstructionDock")) {
    recon->setFloating(true);
    recon->resize(640, 560);
    recon->move(window.geometry().right() - 660, window.geometry().top() + 80);
    recon->show();
  }

  auto state = std::make_shared<SoakState>();
  state->seconds = seconds;
  state->reportPath = reportPath;
  auto* watchdog = new EventLoopWatchdog(&window);
  QObject::connect(&window, &MainWindow::trainingEpochFinished, &window,
                   [state](int epoch) { state->epochs = epoch; });
  QObject::connect(&window, &MainWindow::trainingFinished, &window,
                   [state, watchdog, &window](bool) {
                     if (state->finished) return;
                     state->stoppedEarly = true;
                     std::fprintf(stderr, "revup: training stopped before the soak's end\n");
                     finish(*state, *watchdog, window);
                   });
  // A line a minute in revup.log: the session's progress as it goes.
  auto* progress = new QTimer(&window);
  QObject::connect(progress, &QTimer::timeout, &window, [state, watchdog] {
    const auto s = watchdog->stats();
    logLine("info", QString("soak: %1 s, epoch %2, event loop max lateness %3 ms, %4 stalls, "
                            "%5 input events")
                        .arg(s.seconds, 0, 'f', 0)
                        .arg(state->epochs)
                        .arg(s.maxLatenessMs, 0, 'f', 1)
                        .arg(s.stalls)
                        .arg(s.inputEvents));
  });
  progress->start(60000);
  QTimer::singleShot(seconds * 1000, &window,
                     [state, watchdog, &window] { finish(*state, *watchdog, window); });
  // Where the script should point the mouse: the image view, in screen
  // coordinates, once the first layout has run.
  QTimer::singleShot(1000, &window, [&window] {
    if (const auto* view = window.findChild<QWidget*>("imageView")) {
      const QPoint at = view->mapToGlobal(QPoint(0, 0));
      std::printf("soak: image view %d %d %d %d\n", at.x(), at.y(), view->width(), view->height());
      std::fflush(stdout);
    }
  });
  watchdog->start();
  return window.startTraining();
}

}  // namespace revup::ui
