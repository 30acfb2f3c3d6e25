#pragma once
// Painting class ids into a label map: brush and eraser strokes, flood fill,
// undo and redo. No widgets: the view turns mouse events into these calls, and
// tests call them directly.
//
// The map is uint8 ([H, W] for a 2D image, [D, H, W] for a volume); the
// value 255 marks unlabelled pixels (ClassTable's ignore value). Edits happen
// in one 2D plane at a time: a volume's slice along an axis.
#include <torch/types.h>

#include <QPointF>
#include <QRect>

#include <cstdint>

#include "ui/models/label_history.h"

namespace revup::ui {

constexpr uint8_t kUnlabelled = 255;

// Where a plane's pixel (x, y) lives in the label map's memory.
struct LabelPlane {
  uint8_t* data = nullptr;
  int64_t strideX = 1, strideY = 0;
  int width = 0, height = 0;
  uint8_t at(int x, int y) const { return data[x * strideX + y * strideY]; }
  uint8_t& at(int x, int y) { return data[x * strideX + y * strideY]; }
};

// Plane `slice` along `axis` of a uint8 contiguous map ([H, W]: the one plane;
// [D, H, W]: axis 0 gives [H, W], 1 gives [D, W], 2 gives [D, H]), in place.
LabelPlane labelPlane(const torch::Tensor& map, int axis, int64_t slice);

class LabelEditor {
 public:
  // `labels`: uint8 [H, W] or [D, H, W]; held (not copied) and made contiguous.
  explicit LabelEditor(torch::Tensor labels = torch::full({1, 1}, kUnlabelled, torch::kUInt8));

  const torch::Tensor& labels() const { return labels_; }
  bool isVolume() const { return labels_.dim() == 3; }
  // The plane edited and shown: axis 0, 1 or 2 of a volume ([D, H, W]) and
  // the slice along it. 2D maps have one plane (axis 0, slice 0).
  void setPlane(int axis, int64_t slice);
  int axis() const { return axis_; }
  int64_t slice() const { return slice_; }
  LabelPlane plane() const { return planeOf(axis_, slice_); }
  QRect planeRect() const;

  // A stroke paints discs of `diameter` pixels (centres in continuous pixel
  // coordinates) with `value` (a class id, or kUnlabelled for the eraser);
  // the whole drag is one undoable action. Each call returns the plane
  // pixels it changed the bounding box of (empty when none).
  void beginStroke(uint8_t value, double diameter);
  QRect strokeTo(QPointF point);
  void endStroke();
  bool inStroke() const { return stroking_; }

  // The 4-connected region of pixels equal to the one at `seed` becomes
  // `value` (one action); returns the changed pixels' bounding box.
  QRect fill(QPoint seed, uint8_t value);

  // Replaces the whole map (a loaded mask); clears the history.
  void replaceLabels(torch::Tensor labels);

  bool canUndo() const { return history_.canUndo(); }
  bool canRedo() const { return history_.canRedo(); }
  // Reverts / reapplies the last action; the plane switches to the action's
  // (so the change is visible). Returns the changed bounding box.
  QRect undo();
  QRect redo();
  const LabelHistory& history() const { return history_; }
  // Counts changes to the map (edits, undo, redo, replacement): equal
  // revisions mean nothing changed in between.
  uint64_t revision() const { return revision_; }

 private:
  LabelPlane planeOf(int axis, int64_t slice) const;
  QRect stampDisc(QPointF centre);
  QRect apply(const LabelDelta& delta, bool forward);

  torch::Tensor labels_;
  int axis_ = 0;
  int64_t slice_ = 0;
  LabelHistory history_;
  bool stroking_ = false;
  uint8_t strokeValue_ = 0;
  double strokeDiameter_ = 1;
  QPointF lastPoint_;
  bool hasLastPoint_ = false;
  LabelDelta stroke_;
  uint64_t revision_ = 0;
};

}  // namespace revup::ui
