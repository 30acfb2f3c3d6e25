#include "ui/charts/chart_points.h"

#include <algorithm>

namespace revup::ui {

QVector<QPointF> minMaxEnvelope(const QVector<QPointF>& points, int buckets) {
  const qsizetype n = points.size();
  if (buckets < 1 || n <= 2 * qsizetype{buckets}) return points;
  QVector<QPointF> out;
  out.reserve(2 * buckets + 2);
  out.push_back(points.front());
  qsizetype taken = 0;  // index in points of the last one taken
  for (qsizetype b = 0; b < buckets; ++b) {
    const qsizetype begin = b * n / buckets, end = (b + 1) * n / buckets;
    qsizetype low = begin, high = begin;
    for (qsizetype i = begin + 1; i < end; ++i) {
      if (points[i].y() < points[low].y()) low = i;
      if (points[i].y() > points[high].y()) high = i;
    }
    for (const qsizetype i : {std::min(low, high), std::max(low, high)}) {
      if (i > taken && i < n - 1) {
        out.push_back(points[i]);
        taken = i;
      }
    }
  }
  out.push_back(points.back());
  return out;
}

}  // namespace revup::ui
