// Issue 19: a volume's three orthogonal planes as medical viewers show them.
// The orientation follows the file's direction (LPS, radiological: patient's
// right on the screen's left); the planes share a crosshair with the main
// view; double-clicking a plane makes it the one painted in; labels painted
// there show in the other planes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QDockWidget>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include "io/format_registry.h"
#include "tests/ui/ui_test_util.h"
#include "ui/models/image_document.h"
#include "ui/models/volume_planes.h"
#include "ui/widgets/image_view.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/orthogonal_planes.h"

namespace revup::ui {
namespace {

VoxelGeometry geometry(std::array<double, 9> direction) {
  return VoxelGeometry{{1.0, 1.0, 2.5}, {0, 0, 0}, direction};
}

// A NIfTI stored RAS+ as most are (ITK reads it as LPS diag(-1, -1, 1)).
TEST(VolumePlanes, RasVolumesAreShownRadiologically) {
  const auto g = geometry({-1, 0, 0, 0, -1, 0, 0, 0, 1});
  const auto axial = planeOrientation(g, 0);
  EXPECT_EQ(axial.name, "Axial");
  EXPECT_TRUE(axial.flipX && axial.flipY);
  EXPECT_EQ(axial.left, "R");
  EXPECT_EQ(axial.right, "L");
  EXPECT_EQ(axial.top, "A");
  EXPECT_EQ(axial.bottom, "P");
  EXPECT_DOUBLE_EQ(axial.pixelAspect, 1.0);
  const auto coronal = planeOrientation(g, 1);
  EXPECT_EQ(coronal.name, "Coronal");
  EXPECT_EQ(coronal.left, "R");
  EXPECT_EQ(coronal.top, "S");
  EXPECT_EQ(coronal.bottom, "I");
  EXPECT_DOUBLE_EQ(coronal.pixelAspect, 2.5);  // z spacing over x
  const auto sagittal = planeOrientation(g, 2);
  EXPECT_EQ(sagittal.name, "Sagittal");
  EXPECT_EQ(sagittal.left, "A");
  EXPECT_EQ(sagittal.right, "P");
  EXPECT_EQ(sagittal.top, "S");
}

// LPS-stored (DICOM's frame): the same screen, other flips; a volume stored
// coronally (its slices along y) names its planes by where they point.
TEST(VolumePlanes, FlipsAndNamesFollowTheDirection) {
  const auto lps = planeOrientation(geometry({1, 0, 0, 0, 1, 0, 0, 0, 1}), 0);
  EXPECT_EQ(lps.name, "Axial");
  EXPECT_FALSE(lps.flipX);
  EXPECT_FALSE(lps.flipY);
  EXPECT_EQ(lps.left, "R");
  EXPECT_EQ(lps.top, "A");
  // Voxel x = left, voxel y = superior, voxel z = anterior: slices along z are coronal.
  const auto coronalStack = geometry({1, 0, 0, 0, 0, -1, 0, 1, 0});
  EXPECT_EQ(planeOrientation(coronalStack, 0).name, "Coronal");
  EXPECT_EQ(planeOrientation(coronalStack, 0).top, "S");
  EXPECT_EQ(planeOrientation(coronalStack, 1).name, "Axial");
  EXPECT_EQ(planeOrientation(coronalStack, 2).name, "Sagittal");
  const auto none = planeOrientation(std::nullopt, 1);
  EXPECT_EQ(none.name, "Slices along H");
  EXPECT_TRUE(none.left.isEmpty());
  EXPECT_FALSE(none.flipX || none.flipY);
}

TEST(OrthogonalPlanes, ShareACrosshairWithTheMainViewAndPaintInAnyPlane) {
  QTemporaryDir dir;
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  ASSERT_TRUE(
      window.openImage(revup::testing::writeVolume(dir.filePath("v.nii.gz").toStdString())));
  auto* dock = window.findChild<QDockWidget*>("planesDock");
  ASSERT_NE(dock, nullptr);
  EXPECT_TRUE(dock->isVisible()) << "a volume shows its planes";
  auto* planes = window.findChild<OrthogonalPlanes*>("orthogonalPlanes");
  ASSERT_NE(planes, nullptr);
  ImageDocument* doc = window.document();
  // [6, 8, 10] voxels: the crosshair starts at the centre, on the main view's slice.
  EXPECT_EQ(planes->crosshair(), (VoxelIndex{doc->sliceIndex(), 4, 5}));

  // A click in the sagittal plane (axis 2: x along H, y along D) moves D and
  // H; the main view (axis 0) follows to the new depth.
  planes->moveCrosshairFrom(2, /*x=*/6, /*y=*/1);
  EXPECT_EQ(planes->crosshair(), (VoxelIndex{1, 6, 5}));
  EXPECT_EQ(doc->sliceAxis(), 0);
  EXPECT_EQ(doc->sliceIndex(), 1);
  EXPECT_EQ(window.findChild<QSpinBox*>("sliceSpin")->value(), 1);

  // Moving the slice with the controls moves the crosshair.
  window.findChild<QSpinBox*>("sliceSpin")->setValue(3);
  EXPECT_EQ(planes->crosshair()[0], 3);

  // Double-click the coronal plane: the main view shows it at the crosshair's row.
  auto* coronal = planes->findChild<QWidget*>("planeView1");
  ASSERT_NE(coronal, nullptr);
  QTest::mouseDClick(coronal, Qt::LeftButton, {}, coronal->rect().center());
  EXPECT_EQ(doc->sliceAxis(), 1);
  EXPECT_EQ(doc->sliceIndex(), planes->crosshair()[1]);
  // Painting there lands in the volume at that row.
  const int64_t row = planes->crosshair()[1];
  revup::testing::paintSomething(doc->labels());
  const auto labels = doc->labels().labels();
  EXPECT_GT(labels.select(1, row).ne(kUnlabelled).sum().item<int64_t>(), 0);
  EXPECT_EQ(labels.ne(kUnlabelled).sum().item<int64_t>(),
            labels.select(1, row).ne(kUnlabelled).sum().item<int64_t>());

  // A whole-volume prediction is drawn in every plane; another volume's is not kept.
  planes->setPrediction(torch::ones({6, 8, 10}, torch::kLong));
  EXPECT_TRUE(planes->hasPrediction());
  const QImage shot = window.grab().toImage();
  if (const char* out = std::getenv("REVUP_SCREENSHOT_DIR")) {
    shot.save(QString("%1/orthogonal-planes.png").arg(out));
  }
  doc->markLabelsSaved();  // no "save the labels?" question on opening another
  ASSERT_TRUE(
      window.openImage(revup::testing::writeVolume(dir.filePath("w.nii.gz").toStdString())));
  EXPECT_FALSE(planes->hasPrediction());
}

}  // namespace
}  // namespace revup::ui
