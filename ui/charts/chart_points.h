#pragma once
// What a line chart is given to draw: a curve of thousands of points drawn
// every epoch stalled the GUI (antialiased segments cost microseconds each:
// 11,000 of them, four curves at 2,800 epochs, took over 50 ms a redraw).
// A chart a few hundred pixels wide shows no more than the lowest and highest
// value in each column, so that is all it is given.
#include <QPointF>
#include <QVector>

namespace revup::ui {

// Points per chart curve, at most 2 x this many (two per bucket).
inline constexpr int kChartBuckets = 400;

// The points split into `buckets` runs of consecutive points; of each run its
// lowest and highest point, in their order; the first and last points always.
// Fewer than 2 x buckets points come back unchanged.
QVector<QPointF> minMaxEnvelope(const QVector<QPointF>& points, int buckets = kChartBuckets);

}  // namespace revup::ui
