// The main window's training half, end to end: paint, Start, watch the memory
// chart fill one point per block per phase beside the ResNet+Fixup curve,
// loss and mIoU curves grow, the prediction appear over the image, Stop; and
// a project that brings it all back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

#include "io/format_registry.h"
#include "tests/ui/training_test_util.h"
#include "tests/ui/ui_test_util.h"
#include "ui/models/image_document.h"
#include "ui/models/project.h"
#include "ui/widgets/export_dialog.h"
#include "ui/widgets/image_view.h"
#include "ui/widgets/main_window.h"
#include "ui/widgets/memory_chart_view.h"
#include "ui/widgets/metrics_chart.h"
#include "ui/widgets/training_panel.h"

namespace revup::ui {
namespace {

namespace fs = std::filesystem;

QString writeScene(const QTemporaryDir& dir, int64_t size = 64) {
  const auto scene = testing::labelledScene(size);
  Image image = scene.image;
  const QString path = dir.filePath("scene.png");
  write_image(image, path.toStdString());
  return path;
}

void paintBand(ImageDocument& doc, int64_t size = 64) {
  const auto scene = testing::labelledScene(size);
  doc.setLabels(scene.paintedLabels, scene.classes);
}

TEST(TrainingWindow, TrainsThePaintedImageAndShowsMemoryCurvesAndPredictions) {
  QTemporaryDir dir;
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  // Large enough for the comparison below to be about activations: the
  // spectral norms' probes (a 32x32 grid per channel, whatever the image) are
  // part of RevUp's step, and at 64x64 they outweigh ResNet+Fixup's activations
  // (5.0 against 3.7 MiB).
  constexpr int64_t kSide = 128;
  ASSERT_TRUE(window.openImage(writeScene(dir, kSide)));
  paintBand(*window.document(), kSide);

  window.findChild<QSpinBox*>("epochsSpin")->setValue(4);
  QSignalSpy finished(&window, &MainWindow::trainingFinished);
  QTest::mouseClick(window.findChild<QPushButton*>("startButton"), Qt::LeftButton);
  EXPECT_TRUE(window.isTraining());
  EXPECT_FALSE(window.findChild<QPushButton*>("startButton")->isEnabled());
  ASSERT_TRUE(testing::waitFor([&] { return finished.count() == 1; }));
  EXPECT_TRUE(finished.first().at(0).toBool());
  // The settings of this training open the next session.
  EXPECT_EQ(rememberedTrainingSettings().epochs, 4);
  EXPECT_EQ(TrainingPanel().settings().epochs, 4);

  auto* memory = window.findChild<MemoryChartView*>("memoryChart");
  ASSERT_NE(memory, nullptr);
  const int blocks = memory->revupForward()->count();
  EXPECT_GT(blocks, 10);  // stem, 12 residual blocks, decoder
  EXPECT_EQ(memory->revupBackward()->count(), blocks);
  EXPECT_EQ(memory->baselineForward()->count(), blocks);
  EXPECT_EQ(memory->peaks()->count(), 4);  // one per step
  EXPECT_LT(memory->model().revup().peakMegabytes, memory->model().baseline().peakMegabytes)
      << "RevUp " << memory->model().revup().peakMegabytes << " MiB, ResNet+Fixup "
      << memory->model().baseline().peakMegabytes << " MiB";

  auto* metrics = window.findChild<MetricsChart*>("metricsChart");
  EXPECT_EQ(metrics->lossPoints().size(), 4);
  EXPECT_EQ(metrics->miouPoints().size(), 4);
  auto* iou = window.findChild<QTableWidget*>("classIouTable");
  ASSERT_EQ(iou->rowCount(), 2);
  for (int row = 0; row < 2; ++row) {
    bool isNumber = false;
    iou->item(row, 1)->text().toDouble(&isNumber);
    EXPECT_TRUE(isNumber) << "class " << row << ": " << iou->item(row, 1)->text().toStdString();
  }
  EXPECT_TRUE(window.findChild<ImageView*>("imageView")->hasPrediction());

  // An ordinary run folder beside the image: what revup-cli reads.
  const fs::path run = fs::path(dir.path().toStdString()) / "runs" / "run-001";
  for (const char* f : {"config.json", "metrics.csv", "last.pt"}) {
    EXPECT_TRUE(fs::exists(run / f)) << (run / f);
  }
  EXPECT_TRUE(window.findChild<QPushButton*>("startButton")->isEnabled());

  // Export, through the dialog's own code path (revup-cli export's).
  ASSERT_EQ(window.runs().size(), 1);
  const QStringList formats = availableExportFormats();
  ASSERT_TRUE(formats.contains("onnx")) << "this build has no ONNX export (libonnx-dev)";
  for (const QString& format : formats) {
    ExportRequest request;
    request.runDir = window.runs().first();
    request.format = format;
    request.output = dir.filePath("exported/model." + format);
    request.height = 64;
    request.width = 64;
    QDir().mkpath(dir.filePath("exported"));
    const auto outcome = exportRun(request);
    EXPECT_TRUE(outcome.ok) << outcome.message.toStdString();
    EXPECT_TRUE(QFileInfo::exists(request.output)) << request.output.toStdString();
    EXPECT_TRUE(QFileInfo::exists(dir.filePath("exported/model.card.json")));
  }
  ExportRequest bad{window.runs().first(), "onnx", dir.filePath("no/such/folder/m.onnx")};
  bad.height = bad.width = 64;
  const auto failed = exportRun(bad);
  EXPECT_FALSE(failed.ok);
  EXPECT_TRUE(failed.message.contains("no/such/folder")) << failed.message.toStdString();

  // The dialog: offers the run and writes through the thread pool.
  ExportDialog* dialog = window.showExportDialog();
  QSignalSpy exported(dialog, &ExportDialog::exportFinished);
  auto request = dialog->request();
  EXPECT_EQ(request.runDir, window.runs().first());
  EXPECT_EQ(request.height, kSide);
  request.format = "torchscript";
  request.output = dir.filePath("exported/from-dialog.pt");
  dialog->setRequest(request);
  dialog->startExport();
  ASSERT_TRUE(testing::waitFor([&] { return exported.count() == 1; }));
  EXPECT_TRUE(exported.first().at(0).value<ExportOutcome>().ok);
  EXPECT_TRUE(QFileInfo::exists(request.output));
  dialog->close();

  // The prediction as a mask the size of the image.
  const QString mask = dir.filePath("scene.prediction.png");
  ASSERT_TRUE(window.exportPrediction(mask));
  const auto written = read_image(mask.toStdString());
  EXPECT_EQ(written.height(), kSide);
  EXPECT_EQ(written.width(), kSide);
}

// Volumes: the slice shown gets the latest model's prediction, and another
// slice gets its own when it is shown.
TEST(TrainingWindow, AVolumeShowsThePredictionOfTheSliceShown) {
  QTemporaryDir dir;
  MainWindow window;
  window.resize(1200, 800);
  window.show();
  ASSERT_TRUE(
      window.openImage(revup::testing::writeVolume(dir.filePath("v.nii.gz").toStdString())));
  revup::testing::paintSomething(window.document()->labels());
  window.findChild<QSpinBox*>("epochsSpin")->setValue(1);
  QSignalSpy finished(&window, &MainWindow::trainingFinished);
  ASSERT_TRUE(window.startTraining());
  ASSERT_TRUE(testing::waitFor([&] { return finished.count() == 1; }));
  auto* view = window.findChild<ImageView*>("imageView");
  ASSERT_TRUE(testing::waitFor([&] { return view->hasPrediction(); }));

  window.findChild<QSpinBox*>("sliceSpin")->setValue(0);
  EXPECT_EQ(window.document()->sliceIndex(), 0);
  ASSERT_TRUE(testing::waitFor([&] { return view->hasPrediction(); }));
  // The window/level changes nothing the model sees: the prediction stays.
  auto* level = window.findChild<QDoubleSpinBox*>("levelSpin");
  level->setValue(level->value() + 1);
  EXPECT_TRUE(view->hasPrediction());
  // The whole volume's mask, predicted slice by slice in a worker, in the
  // volume's format and geometry.
  QSignalSpy exported(&window, &MainWindow::predictionExported);
  const QString maskPath = dir.filePath("mask.nii.gz");
  ASSERT_TRUE(window.exportPrediction(maskPath));
  ASSERT_TRUE(testing::waitFor([&] { return exported.count() == 1; }));
  EXPECT_TRUE(exported.first().at(0).toBool()) << exported.first().at(1).toString().toStdString();
  const auto mask = read_image(maskPath.toStdString());
  EXPECT_EQ(mask.pixels.sizes(), (std::vector<int64_t>{1, 6, 8, 10}));
  EXPECT_LE(mask.pixels.max().item<double>(), 1.0);
  ASSERT_TRUE(mask.voxels.has_value());
  EXPECT_DOUBLE_EQ(mask.voxels->spacing[2], 2.0);
}

TEST(TrainingWindow, NothingLabelledIsAClearDialogNotATraining) {
  QTemporaryDir dir;
  MainWindow window;
  window.show();
  ASSERT_TRUE(window.openImage(writeScene(dir)));
  EXPECT_FALSE(window.startTraining());
  EXPECT_FALSE(window.isTraining());
  auto* box = window.findChild<QMessageBox*>("errorDialog");
  ASSERT_NE(box, nullptr);
  EXPECT_TRUE(box->text().contains("labelled")) << box->text().toStdString();
  box->close();
}

TEST(TrainingWindow, StopEndsTrainingBetweenStepsAndKeepsACheckpoint) {
  QTemporaryDir dir;
  MainWindow window;
  window.show();
  ASSERT_TRUE(window.openImage(writeScene(dir)));
  paintBand(*window.document());
  window.findChild<QSpinBox*>("epochsSpin")->setValue(10000);
  QSignalSpy epochs(&window, &MainWindow::trainingEpochFinished);
  QSignalSpy finished(&window, &MainWindow::trainingFinished);
  ASSERT_TRUE(window.startTraining());
  ASSERT_TRUE(testing::waitFor([&] { return epochs.count() >= 2; }));
  window.stopTraining();
  EXPECT_FALSE(window.isTraining());
  testing::waitFor([&] { return finished.count() == 1; }, 5000);
  ASSERT_EQ(finished.count(), 1);
  EXPECT_FALSE(finished.first().at(0).toBool());
  EXPECT_TRUE(fs::exists(fs::path(dir.path().toStdString()) / "runs" / "run-001" / "last.pt"));
}

TEST(TrainingWindow, AProjectRoundTripsImageLabelsClassesSettingsAndRuns) {
  QTemporaryDir dir;
  const QString projectFile = dir.filePath("study.revup");
  torch::Tensor labels;
  {
    MainWindow window;
    window.show();
    ASSERT_TRUE(window.openImage(writeScene(dir)));
    paintBand(*window.document());
    window.document()->renameClass(1, "disc");
    labels = window.document()->trainingLabels();
    // One short run, so the project has a run with curves to show again.
    window.findChild<QSpinBox*>("epochsSpin")->setValue(2);
    QSignalSpy finished(&window, &MainWindow::trainingFinished);
    ASSERT_TRUE(window.startTraining());
    ASSERT_TRUE(testing::waitFor([&] { return finished.count() == 1; }));
    window.findChild<QSpinBox*>("epochsSpin")->setValue(17);
    window.findChild<QSpinBox*>("iterationsSpin")->setValue(4);
    ASSERT_TRUE(window.saveProject(projectFile));
    EXPECT_EQ(window.projectPath(), projectFile);
  }
  MainWindow reopened;
  reopened.show();
  ASSERT_TRUE(reopened.openProject(projectFile));
  ASSERT_NE(reopened.document(), nullptr);
  EXPECT_TRUE(reopened.document()->path().endsWith("scene.png"));
  EXPECT_TRUE(torch::equal(reopened.document()->trainingLabels(), labels));
  EXPECT_EQ(reopened.document()->classes().classes.at(1).name, "disc");
  EXPECT_EQ(reopened.findChild<QSpinBox*>("epochsSpin")->value(), 17);
  EXPECT_EQ(reopened.findChild<QSpinBox*>("iterationsSpin")->value(), 4);
  ASSERT_EQ(reopened.runs().size(), 1);
  const auto& earlier = reopened.findChild<MetricsChart*>()->earlierRuns();
  ASSERT_EQ(earlier.size(), 1);
  EXPECT_EQ(earlier[0].name, "run-001");
  EXPECT_EQ(earlier[0].loss.size(), 2);  // both epochs, read back from metrics.csv

  // A broken project is a dialog, and what was open stays.
  QFile broken(dir.filePath("broken.revup"));
  ASSERT_TRUE(broken.open(QIODevice::WriteOnly));
  broken.write("{\"format\": \"revup-project\", \"version\": 99}");
  broken.close();
  EXPECT_FALSE(reopened.openProject(dir.filePath("broken.revup")));
  auto* box = reopened.findChild<QMessageBox*>("errorDialog");
  ASSERT_NE(box, nullptr);
  EXPECT_TRUE(box->text().contains("newer")) << box->text().toStdString();
  box->close();
  EXPECT_TRUE(reopened.document()->path().endsWith("scene.png"));
}

}  // namespace
}  // namespace revup::ui
