#pragma once
// Measures how late the GUI thread's event loop answers: a precise timer
// fires every `intervalMs` on the thread that owns the watchdog, and each
// tick's lateness (the gap since the last tick minus the interval) is how long
// an event posted then would have waited. A lateness over `stallMs` is a
// stall, logged to revup.log with its length. Also counts the input events
// (mouse buttons, moves, wheel, keys) the windows received, so a scripted
// session can check that every one it sent was delivered. Used by
// `revup --soak` (tests/ui/soak.sh).
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <array>
#include <cstdint>

namespace revup::ui {

struct EventLoopStats {
  int64_t ticks = 0;
  double maxLatenessMs = 0;
  int64_t stalls = 0;  // ticks later than stallMs
  // Ticks later than 16, 33, 50, 100 and 250 ms (a frame, two, ...).
  std::array<int64_t, 5> lateOver{};
  int64_t inputEvents = 0;
  double seconds = 0;  // since start()
};

class EventLoopWatchdog : public QObject {
  Q_OBJECT
 public:
  static constexpr std::array<int, 5> kLatenessBucketsMs{16, 33, 50, 100, 250};

  explicit EventLoopWatchdog(QObject* parent = nullptr, int intervalMs = 10, int stallMs = 50);
  ~EventLoopWatchdog() override;

  void start();
  EventLoopStats stats() const { return stats_; }
  int intervalMs() const { return intervalMs_; }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void tick();

  QTimer timer_;
  QElapsedTimer clock_;
  int64_t lastTickNs_ = 0;
  int intervalMs_;
  int stallMs_;
  EventLoopStats stats_;
};

}  // namespace revup::ui
