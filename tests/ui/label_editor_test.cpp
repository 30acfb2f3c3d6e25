// LabelEditor: brush, eraser, fill, undo/redo with compressed deltas.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "ui/models/label_editor.h"

namespace revup::ui {
namespace {

torch::Tensor blank(int64_t h, int64_t w) { return torch::full({h, w}, 255, torch::kUInt8); }

int64_t count(const torch::Tensor& labels, int value) {
  return labels.eq(value).sum().item<int64_t>();
}

TEST(LabelEditor, BrushPaintsADiscOfItsDiameter) {
  LabelEditor editor(blank(100, 100));
  editor.beginStroke(1, 10);
  const QRect changed = editor.strokeTo(QPointF(50, 50));
  editor.endStroke();
  const auto& l = editor.labels();
  // Pixel centres within 5 px of (50, 50): 76..84 of them (pi * 25 = 78.5).
  EXPECT_NEAR(count(l, 1), 78.5, 6);
  EXPECT_EQ(l[50][50].item<int>(), 1);
  EXPECT_EQ(l[46][50].item<int>(), 1);    // 3.5 px above
  EXPECT_EQ(l[44][50].item<int>(), 255);  // 5.5 px above: outside
  EXPECT_EQ(changed, QRect(45, 45, 10, 10));
}

TEST(LabelEditor, AOnePixelBrushPaintsThePixelUnderIt) {
  LabelEditor editor(blank(10, 10));
  editor.beginStroke(3, 1);
  editor.strokeTo(QPointF(4.9, 7.2));
  editor.endStroke();
  EXPECT_EQ(count(editor.labels(), 3), 1);
  EXPECT_EQ(editor.labels()[7][4].item<int>(), 3);
}

TEST(LabelEditor, ADragIsOneActionWithoutGaps) {
  LabelEditor editor(blank(60, 200));
  editor.beginStroke(2, 4);
  for (double x = 10; x <= 190; x += 30) editor.strokeTo(QPointF(x, 30));  // fast mouse
  editor.endStroke();
  const auto row = editor.labels()[30].slice(0, 10, 190);
  EXPECT_TRUE(row.eq(2).all().item<bool>()) << "gaps between mouse events";
  EXPECT_EQ(editor.history().undoDepth(), 1u);
  editor.undo();
  EXPECT_EQ(count(editor.labels(), 255), 60 * 200);
}

TEST(LabelEditor, EraserMarksPixelsUnlabelled) {
  auto labels = torch::ones({20, 20}, torch::kUInt8);
  LabelEditor editor(labels);
  editor.beginStroke(kUnlabelled, 6);
  editor.strokeTo(QPointF(10, 10));
  editor.endStroke();
  EXPECT_EQ(editor.labels()[10][10].item<int>(), 255);
  EXPECT_EQ(editor.labels()[0][0].item<int>(), 1);
  EXPECT_GT(count(editor.labels(), 255), 20);
}

TEST(LabelEditor, FillTakesTheFourConnectedRegionOnly) {
  // A diagonal line of class 1 splits the map: 4-connected regions do not
  // pass between diagonal neighbours.
  auto labels = blank(10, 10);
  for (int i = 0; i < 10; ++i) labels[i][i] = 1;
  LabelEditor editor(labels);
  const QRect changed = editor.fill(QPoint(8, 1), 2);  // above the diagonal
  const auto& l = editor.labels();
  EXPECT_EQ(count(l, 2), 45);
  EXPECT_EQ(count(l, 255), 45);
  EXPECT_EQ(count(l, 1), 10);
  EXPECT_EQ(l[1][8].item<int>(), 2);
  EXPECT_EQ(l[8][1].item<int>(), 255);
  EXPECT_EQ(changed, QRect(1, 0, 9, 9));
  // Filling with the value already there changes nothing and records nothing.
  EXPECT_TRUE(editor.fill(QPoint(8, 1), 2).isEmpty());
  EXPECT_EQ(editor.history().undoDepth(), 1u);
}

TEST(LabelEditor, UndoAndRedoRestoreEveryStateExactly) {
  torch::manual_seed(3);
  LabelEditor editor(blank(64, 80));
  std::vector<torch::Tensor> states{editor.labels().clone()};
  for (int i = 0; i < 12; ++i) {
    const double x = torch::randint(80, {1}).item<double>(),
                 y = torch::randint(64, {1}).item<double>();
    if (i % 4 == 3) {
      editor.fill(QPoint(int(x), int(y)), static_cast<uint8_t>(i % 3));
    } else {
      editor.beginStroke(i % 5 == 4 ? kUnlabelled : static_cast<uint8_t>(i % 3), 3 + i);
      editor.strokeTo(QPointF(x, y));
      editor.strokeTo(QPointF(80 - x, y / 2));
      editor.endStroke();
    }
    if (!editor.labels().equal(states.back())) states.push_back(editor.labels().clone());
  }
  ASSERT_GT(states.size(), 8u);
  for (size_t i = states.size() - 1; i > 0; --i) {
    editor.undo();
    ASSERT_TRUE(editor.labels().equal(states[i - 1])) << "after undoing to state " << i - 1;
  }
  EXPECT_FALSE(editor.canUndo());
  for (size_t i = 1; i < states.size(); ++i) {
    editor.redo();
    ASSERT_TRUE(editor.labels().equal(states[i])) << "after redoing to state " << i;
  }
  EXPECT_FALSE(editor.canRedo());
}

TEST(LabelEditor, UndoRecordsAreRunLengthCompressed) {
  // A 4K label map (8.3 MB): a 200 px brush dragged across its width, then a
  // fill of everything else.
  LabelEditor editor(blank(2160, 3840));
  const int64_t imageBytes = 2160 * 3840;
  editor.beginStroke(1, 200);
  for (int x = 0; x <= 3840; x += 7) editor.strokeTo(QPointF(x, 1080));
  editor.endStroke();
  const LabelDelta* stroke = editor.history().lastAction();
  ASSERT_NE(stroke, nullptr);
  EXPECT_GT(stroke->pixels(), 700000);
  EXPECT_LT(stroke->bytes(), imageBytes / 500) << stroke->runs.size() << " runs";
  editor.fill(QPoint(5, 5), 2);
  const LabelDelta* fill = editor.history().lastAction();
  EXPECT_GT(fill->pixels(), 3000000);
  EXPECT_LT(fill->bytes(), imageBytes / 100) << fill->runs.size() << " runs";
  std::printf(
      "4K label map %lld bytes: stroke of %lld pixels -> %zu-byte undo record; fill of "
      "%lld pixels -> %zu bytes\n",
      static_cast<long long>(imageBytes), static_cast<long long>(stroke->pixels()), stroke->bytes(),
      static_cast<long long>(fill->pixels()), fill->bytes());
}

TEST(LabelEditor, HistoryKeepsAtMostItsLimit) {
  LabelHistory history(3, 1 << 20);
  for (int i = 0; i < 5; ++i) history.push({0, 0, {{i, 0, 1, 255, 1}}});
  EXPECT_EQ(history.undoDepth(), 3u);
  EXPECT_EQ(history.lastAction()->runs[0].y, 4);
  LabelHistory small(100, 200);  // bytes: only the newest survives
  for (int i = 0; i < 5; ++i) small.push({0, 0, std::vector<LabelRun>(20, {i, 0, 1, 255, 1})});
  EXPECT_EQ(small.undoDepth(), 1u);
}

TEST(LabelEditor, VolumeSlicesEditTheirOwnVoxels) {
  LabelEditor editor(torch::full({4, 5, 6}, 255, torch::kUInt8));  // [D, H, W]
  editor.setPlane(2, 3);                                           // the [D, H] plane at w = 3
  EXPECT_EQ(editor.planeRect(), QRect(0, 0, 5, 4));
  editor.beginStroke(7, 1);
  editor.strokeTo(QPointF(1.5, 2.5));  // plane x = h = 1, y = d = 2
  editor.endStroke();
  EXPECT_EQ(editor.labels()[2][1][3].item<int>(), 7);
  EXPECT_EQ(count(editor.labels(), 7), 1);
  editor.setPlane(0, 0);
  editor.fill(QPoint(0, 0), 4);  // the whole first [H, W] slice
  EXPECT_EQ(count(editor.labels()[0], 4), 30);
  editor.undo();
  editor.undo();  // the stroke: back on axis 2, slice 3
  EXPECT_EQ(editor.axis(), 2);
  EXPECT_EQ(editor.slice(), 3);
  EXPECT_EQ(count(editor.labels(), 255), 120);
}

}  // namespace
}  // namespace revup::ui
