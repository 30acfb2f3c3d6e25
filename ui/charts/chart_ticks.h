#pragma once
// Axis ticks a person can read: steps of 1, 2 or 5 times a power of ten,
// the range widened to whole steps, and labels with just the digits the step
// needs. Qt's own QValueAxis divides the range into a fixed count of equal
// parts, which gives 0, 6.25, 12.5 (shown "6", "13") or, for an empty range,
// 0, 0, 1, 1, 1.
#include <QString>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QValueAxis;
QT_END_NAMESPACE

namespace revup::ui {

struct NiceTicks {
  double min = 0.0, max = 1.0;  // the axis range: whole steps around the data
  double step = 0.2;
  int decimals = 1;  // digits after the point each label needs
  int count() const;
  QStringList labels() const;
};

// Ticks for data in [lo, hi], at most `maxTicks` (>= 2) of them. An empty or
// one-value range gets a unit-wide axis around it (an empty chart: 0..1).
// `wholeNumbers` keeps steps >= 1 (blocks, steps, epochs).
NiceTicks niceTicks(double lo, double hi, int maxTicks = 6, bool wholeNumbers = false);

// Sets `axis` to those ticks: range, one tick per step, labels of that
// format. With `wholeNumbers` the range is [lo, hi] itself and the ticks the
// step's multiples inside it.
void applyNiceTicks(QValueAxis* axis, double lo, double hi, int maxTicks = 6,
                    bool wholeNumbers = false);

}  // namespace revup::ui
