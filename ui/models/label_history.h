#pragma once
// Undo and redo for label painting. An action (a brush stroke, a fill) is
// stored as run-length-compressed deltas of the pixels it changed, never as a
// copy of the label map: a stroke across a 4K image costs a few kilobytes.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace revup::ui {

// `length` pixels from (x, y) along a row of one 2D plane, each of which
// held `before` and now holds `after`.
struct LabelRun {
  int32_t y = 0, x = 0, length = 0;
  uint8_t before = 0, after = 0;
};

// One undoable action: the plane it happened in (axis and slice of a
// volume; axis 0, slice 0 for 2D images) and its runs, sorted by row.
struct LabelDelta {
  int axis = 0;
  int64_t slice = 0;
  std::vector<LabelRun> runs;

  size_t bytes() const { return sizeof(LabelDelta) + runs.capacity() * sizeof(LabelRun); }
  int64_t pixels() const;
  // Sorts the runs and joins neighbours that continue each other.
  void compact();
};

class LabelHistory {
 public:
  // Oldest actions are dropped beyond either limit.
  explicit LabelHistory(size_t maxActions = 200, size_t maxBytes = 64u << 20)
      : maxActions_(maxActions), maxBytes_(maxBytes) {}

  // A new action; clears what could be redone.
  void push(LabelDelta delta);
  bool canUndo() const { return !undo_.empty(); }
  bool canRedo() const { return !redo_.empty(); }
  // The action to revert (apply its `before` values); moves it to redo.
  const LabelDelta& takeUndo();
  // The action to apply again (its `after` values); moves it to undo.
  const LabelDelta& takeRedo();
  void clear();

  size_t undoDepth() const { return undo_.size(); }
  size_t bytes() const { return bytes_; }
  // The most recent action that can be undone (nullptr when none).
  const LabelDelta* lastAction() const { return undo_.empty() ? nullptr : &undo_.back(); }

 private:
  void enforceLimits();

  std::deque<LabelDelta> undo_, redo_;
  size_t maxActions_, maxBytes_;
  size_t bytes_ = 0;
};

}  // namespace revup::ui
