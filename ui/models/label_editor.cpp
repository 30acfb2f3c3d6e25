#include "ui/models/label_editor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

namespace revup::ui {

LabelEditor::LabelEditor(torch::Tensor labels) { replaceLabels(std::move(labels)); }

void LabelEditor::replaceLabels(torch::Tensor labels) {
  if (labels.scalar_type() != torch::kUInt8 || (labels.dim() != 2 && labels.dim() != 3)) {
    throw std::invalid_argument("LabelEditor: labels must be uint8 [H, W] or [D, H, W]");
  }
  labels_ = labels.contiguous();
  history_.clear();
  ++revision_;
  stroking_ = false;
  axis_ = 0;
  slice_ = 0;
}

LabelPlane labelPlane(const torch::Tensor& map, int axis, int64_t slice) {
  LabelPlane p;
  auto* base = map.data_ptr<uint8_t>();
  if (map.dim() == 2) {
    p = {base, 1, map.size(1), static_cast<int>(map.size(1)), static_cast<int>(map.size(0))};
    return p;
  }
  const int64_t d = map.size(0), h = map.size(1), w = map.size(2);
  switch (axis) {
    case 0:  // [H, W] at depth `slice`
      return {base + slice * h * w, 1, w, static_cast<int>(w), static_cast<int>(h)};
    case 1:  // [D, W] at row `slice`
      return {base + slice * w, 1, h * w, static_cast<int>(w), static_cast<int>(d)};
    default:  // [D, H] at column `slice`
      return {base + slice, w, h * w, static_cast<int>(h), static_cast<int>(d)};
  }
}

LabelPlane LabelEditor::planeOf(int axis, int64_t slice) const {
  return labelPlane(labels_, axis, slice);
}

void LabelEditor::setPlane(int axis, int64_t slice) {
  if (labels_.dim() == 2) return;
  if (axis < 0 || axis > 2 || slice < 0 || slice >= labels_.size(axis)) {
    throw std::out_of_range("LabelEditor: no slice " + std::to_string(slice) + " along axis " +
                            std::to_string(axis));
  }
  if (stroking_) endStroke();  // a stroke never spans two planes
  axis_ = axis;
  slice_ = slice;
}

QRect LabelEditor::planeRect() const {
  const auto p = plane();
  return {0, 0, p.width, p.height};
}

void LabelEditor::beginStroke(uint8_t value, double diameter) {
  if (stroking_) endStroke();
  stroking_ = true;
  strokeValue_ = value;
  strokeDiameter_ = std::max(1.0, diameter);
  hasLastPoint_ = false;
  stroke_ = LabelDelta{axis_, slice_, {}};
}

QRect LabelEditor::stampDisc(QPointF c) {
  auto p = plane();
  const double r = strokeDiameter_ / 2;
  const int y0 = std::max(0, static_cast<int>(std::floor(c.y() - r)));
  const int y1 = std::min(p.height - 1, static_cast<int>(std::ceil(c.y() + r)));
  QRect changed;
  for (int y = y0; y <= y1; ++y) {
    // Pixel centres inside the circle; the pixel under the centre always.
    const double dy = y + 0.5 - c.y();
    const double half = r * r - dy * dy;
    int x0, x1;
    if (half >= 0) {
      const double dx = std::sqrt(half);
      x0 = static_cast<int>(std::ceil(c.x() - dx - 0.5));
      x1 = static_cast<int>(std::floor(c.x() + dx - 0.5));
    } else {
      x0 = 1;
      x1 = 0;
    }
    if (y == static_cast<int>(std::floor(c.y()))) {
      const int cx = static_cast<int>(std::floor(c.x()));
      x0 = x0 <= x1 ? std::min(x0, cx) : cx;
      x1 = std::max(x1, cx);
    }
    x0 = std::max(x0, 0);
    x1 = std::min(x1, p.width - 1);
    // A pixel changes at most once a stroke (afterwards it holds the value),
    // so the runs recorded here never overlap.
    for (int x = x0; x <= x1;) {
      const uint8_t before = p.at(x, y);
      if (before == strokeValue_) {
        ++x;
        continue;
      }
      int end = x;
      while (end <= x1 && p.at(end, y) == before) p.at(end++, y) = strokeValue_;
      stroke_.runs.push_back({y, x, end - x, before, strokeValue_});
      changed |= QRect(x, y, end - x, 1);
      x = end;
    }
  }
  return changed;
}

QRect LabelEditor::strokeTo(QPointF point) {
  if (!stroking_) return {};
  QRect changed;
  if (!hasLastPoint_) {
    changed = stampDisc(point);
  } else {
    // Discs along the segment, close enough to leave no gaps.
    const QPointF d = point - lastPoint_;
    const double length = std::hypot(d.x(), d.y());
    const double step = std::max(0.5, strokeDiameter_ / 4);
    const int n = std::max(1, static_cast<int>(std::ceil(length / step)));
    for (int i = 1; i <= n; ++i) changed |= stampDisc(lastPoint_ + d * (double(i) / n));
  }
  lastPoint_ = point;
  hasLastPoint_ = true;
  return changed;
}

void LabelEditor::endStroke() {
  if (!stroking_) return;
  stroking_ = false;
  stroke_.compact();
  if (!stroke_.runs.empty()) ++revision_;
  history_.push(std::move(stroke_));
  stroke_ = {};
}

QRect LabelEditor::fill(QPoint seed, uint8_t value) {
  if (stroking_) endStroke();
  auto p = plane();
  if (seed.x() < 0 || seed.y() < 0 || seed.x() >= p.width || seed.y() >= p.height) return {};
  const uint8_t target = p.at(seed.x(), seed.y());
  if (target == value) return {};
  // Scanline fill: each popped seed grows into its row's span, and the rows
  // above and below are scanned for spans still holding `target`.
  LabelDelta delta{axis_, slice_, {}};
  QRect changed;
  std::vector<QPoint> stack{seed};
  while (!stack.empty()) {
    const QPoint s = stack.back();
    stack.pop_back();
    if (p.at(s.x(), s.y()) != target) continue;
    int x0 = s.x(), x1 = s.x();
    while (x0 > 0 && p.at(x0 - 1, s.y()) == target) --x0;
    while (x1 + 1 < p.width && p.at(x1 + 1, s.y()) == target) ++x1;
    for (int x = x0; x <= x1; ++x) p.at(x, s.y()) = value;
    delta.runs.push_back({s.y(), x0, x1 - x0 + 1, target, value});
    changed |= QRect(x0, s.y(), x1 - x0 + 1, 1);
    for (int ny : {s.y() - 1, s.y() + 1}) {
      if (ny < 0 || ny >= p.height) continue;
      for (int x = x0; x <= x1; ++x) {
        if (p.at(x, ny) == target && (x == x0 || p.at(x - 1, ny) != target)) {
          stack.emplace_back(x, ny);
        }
      }
    }
  }
  delta.compact();
  history_.push(std::move(delta));
  ++revision_;
  return changed;
}

QRect LabelEditor::apply(const LabelDelta& delta, bool forward) {
  if (labels_.dim() == 3) {
    axis_ = delta.axis;
    slice_ = delta.slice;
  }
  auto p = plane();
  QRect changed;
  for (const auto& r : delta.runs) {
    const uint8_t v = forward ? r.after : r.before;
    for (int x = r.x; x < r.x + r.length; ++x) p.at(x, r.y) = v;
    changed |= QRect(r.x, r.y, r.length, 1);
  }
  return changed;
}

QRect LabelEditor::undo() {
  if (stroking_) endStroke();
  if (!history_.canUndo()) return {};
  ++revision_;
  return apply(history_.takeUndo(), false);
}

QRect LabelEditor::redo() {
  if (stroking_) endStroke();
  if (!history_.canRedo()) return {};
  ++revision_;
  return apply(history_.takeRedo(), true);
}

}  // namespace revup::ui
