#include "ui/charts/chart_ticks.h"

#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace revup::ui {
namespace {

// The smallest of 1, 2, 5 x 10^k that is >= `rough`.
double niceStep(double rough) {
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * power >= rough * (1 - 1e-9)) return m * power;
  }
  return 10.0 * power;
}

}  // namespace

int NiceTicks::count() const { return static_cast<int>(std::lround((max - min) / step)) + 1; }

QStringList NiceTicks::labels() const {
  QStringList out;
  for (int i = 0; i < count(); ++i) {
    const double v = min + i * step;
    // No "-0" for a tick that is zero but for rounding.
    out << QString::number(std::abs(v) < step * 1e-6 ? 0.0 : v, 'f', decimals);
  }
  return out;
}

NiceTicks niceTicks(double lo, double hi, int maxTicks, bool wholeNumbers) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = hi = 0.0;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    // Nothing to span: 0..1 for an empty chart, value..value+1 otherwise.
    lo = lo > 0 ? std::floor(lo) : std::min(0.0, std::floor(lo));
    hi = lo + 1.0;
  }
  maxTicks = std::max(2, maxTicks);
  NiceTicks t;
  // The step for maxTicks - 1 intervals; widening to whole steps can add one
  // more, so try the next step up when it does.
  t.step = niceStep((hi - lo) / (maxTicks - 1));
  if (wholeNumbers) t.step = std::max(1.0, t.step);
  for (;;) {
    t.min = std::floor(lo / t.step + 1e-9) * t.step;
    t.max = std::ceil(hi / t.step - 1e-9) * t.step;
    if (t.count() <= maxTicks) break;
    t.step = niceStep(t.step * 1.5);
  }
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(t.step) + 1e-9)));
  return t;
}

void applyNiceTicks(QValueAxis* axis, double lo, double hi, int maxTicks, bool wholeNumbers) {
  const NiceTicks t = niceTicks(lo, hi, maxTicks, wholeNumbers);
  axis->setMinorTickCount(0);
  axis->setLabelFormat(QString("%.%1f").arg(t.decimals));
  if (wholeNumbers && hi > lo) {
    // Counts (blocks, steps, epochs) span the data exactly, with a tick on
    // each multiple of the step inside: no block -2, no step 0.
    axis->setRange(lo, hi);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(t.step);
    return;
  }
  axis->setRange(t.min, t.max);
  axis->setTickType(QValueAxis::TicksFixed);
  axis->setTickCount(t.count());
}

}  // namespace revup::ui
