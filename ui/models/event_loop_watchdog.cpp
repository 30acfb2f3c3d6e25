#include "ui/models/event_loop_watchdog.h"

#include <QCoreApplication>
#include <QEvent>

#include "ui/models/log.h"

namespace revup::ui {

EventLoopWatchdog::EventLoopWatchdog(QObject* parent, int intervalMs, int stallMs)
    : QObject(parent), intervalMs_(intervalMs), stallMs_(stallMs) {
  timer_.setTimerType(Qt::PreciseTimer);
  timer_.setInterval(intervalMs_);
  connect(&timer_, &QTimer::timeout, this, &EventLoopWatchdog::tick);
}

EventLoopWatchdog::~EventLoopWatchdog() {
  if (QCoreApplication::instance()) QCoreApplication::instance()->removeEventFilter(this);
}

void EventLoopWatchdog::start() {
  stats_ = EventLoopStats{};
  clock_.start();
  lastTickNs_ = 0;
  QCoreApplication::instance()->installEventFilter(this);
  timer_.start();
}

void EventLoopWatchdog::tick() {
  const int64_t now = clock_.nsecsElapsed();
  const double latenessMs = (now - lastTickNs_) / 1e6 - intervalMs_;
  lastTickNs_ = now;
  stats_.ticks += 1;
  stats_.seconds = now / 1e9;
  if (latenessMs > stats_.maxLatenessMs) stats_.maxLatenessMs = latenessMs;
  for (size_t i = 0; i < kLatenessBucketsMs.size(); ++i) {
    if (latenessMs > kLatenessBucketsMs[i]) stats_.lateOver[i] += 1;
  }
  if (latenessMs > stallMs_) {
    stats_.stalls += 1;
    logLine("warning", QString("event loop stalled %1 ms at %2 s")
                           .arg(latenessMs, 0, 'f', 1)
                           .arg(stats_.seconds, 0, 'f', 1));
  }
}

bool EventLoopWatchdog::eventFilter(QObject* watched, QEvent* event) {
  // Input reaches a QWindow first (from the platform), then the widget under
  // it, and unhandled events climb to parents: counting at the window counts
  // each one the system delivered once.
  if (watched->isWindowType()) {
    switch (event->type()) {
      case QEvent::MouseButtonPress:
      case QEvent::MouseButtonRelease:
      case QEvent::MouseMove:
      case QEvent::Wheel:
      case QEvent::KeyPress:
      case QEvent::KeyRelease:
        stats_.inputEvents += 1;
        break;
      default:
        break;
    }
  }
  return QObject::eventFilter(watched, event);
}

}  // namespace revup::ui
