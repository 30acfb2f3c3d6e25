#include "ui/models/label_history.h"

#include <algorithm>
#include <utility>

namespace revup::ui {

int64_t LabelDelta::pixels() const {
  int64_t n = 0;
  for (const auto& r : runs) n += r.length;
  return n;
}

void LabelDelta::compact() {
  std::sort(runs.begin(), runs.end(), [](const LabelRun& a, const LabelRun& b) {
    return a.y != b.y ? a.y < b.y : a.x < b.x;
  });
  std::vector<LabelRun> joined;
  joined.reserve(runs.size());
  for (const auto& r : runs) {
    if (!joined.empty()) {
      auto& last = joined.back();
      if (last.y == r.y && last.x + last.length == r.x && last.before == r.before &&
          last.after == r.after) {
        last.length += r.length;
        continue;
      }
    }
    joined.push_back(r);
  }
  joined.shrink_to_fit();
  runs = std::move(joined);
}

void LabelHistory::push(LabelDelta delta) {
  if (delta.runs.empty()) return;  // nothing changed: nothing to undo
  for (const auto& d : redo_) bytes_ -= d.bytes();
  redo_.clear();
  bytes_ += delta.bytes();
  undo_.push_back(std::move(delta));
  enforceLimits();
}

const LabelDelta& LabelHistory::takeUndo() {
  redo_.push_back(std::move(undo_.back()));
  undo_.pop_back();
  return redo_.back();
}

const LabelDelta& LabelHistory::takeRedo() {
  undo_.push_back(std::move(redo_.back()));
  redo_.pop_back();
  return undo_.back();
}

void LabelHistory::clear() {
  undo_.clear();
  redo_.clear();
  bytes_ = 0;
}

void LabelHistory::enforceLimits() {
  // The newest action always stays, even if it alone is over the byte cap.
  while (undo_.size() > 1 && (undo_.size() > maxActions_ || bytes_ > maxBytes_)) {
    bytes_ -= undo_.front().bytes();
    undo_.pop_front();
  }
}

}  // namespace revup::ui
