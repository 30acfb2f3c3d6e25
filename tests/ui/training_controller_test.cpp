// The main window's training state without a window: a run folder per
// start, the latest model after every epoch, the prediction exported, and a
// volume's slice predicted by the newest request only.
#include <QSignalSpy>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <filesystem>

#include "io/format_registry.h"
#include "tests/ui/training_test_util.h"
#include "ui/models/training_controller.h"

namespace revup::ui {
namespace {

namespace fs = std::filesystem;
using testing::waitFor;

TEST(TrainingController, TrainsIntoTheNextRunFolderAndExportsThePrediction) {
  QTemporaryDir dir;
  const auto scene = testing::labelledScene(64);
  TrainingController controller;
  QSignalSpy epochs(&controller, &TrainingController::epochFinished);
  QSignalSpy finished(&controller, &TrainingController::finished);
  auto input = testing::sceneJob(scene, QString(), 3);
  input.measureBaseline = false;
  EXPECT_FALSE(controller.hasPrediction());
  ASSERT_TRUE(controller.start(input, dir.filePath("scene.png")));
  EXPECT_TRUE(controller.isRunning());
  EXPECT_FALSE(controller.start(input, dir.filePath("scene.png"))) << "one run at a time";
  ASSERT_TRUE(waitFor([&] { return finished.count() == 1; }));
  EXPECT_TRUE(finished.first().at(0).toBool());
  EXPECT_EQ(epochs.count(), 3);
  EXPECT_EQ(epochs.last().at(1).toInt(), 3);
  EXPECT_GT(controller.secondsPerEpoch(), 0.0);
  ASSERT_EQ(controller.runs().size(), 1);
  EXPECT_TRUE(controller.runs().first().endsWith("runs/run-001"))
      << controller.runs().first().toStdString();
  EXPECT_TRUE(fs::exists(fs::path(controller.runs().first().toStdString()) / "last.pt"));
  ASSERT_TRUE(controller.latest());
  EXPECT_EQ(controller.latest()->epoch, 3);
  ASSERT_TRUE(controller.hasPrediction());
  EXPECT_TRUE(controller.suggestedPredictionPath().endsWith("scene.prediction.png"));

  QSignalSpy exported(&controller, &TrainingController::predictionExported);
  const QString mask = dir.filePath("mask.png");
  EXPECT_EQ(controller.exportPrediction(mask), nullptr) << "a 2D prediction is written at once";
  ASSERT_EQ(exported.count(), 1);
  EXPECT_TRUE(exported.first().at(0).toBool());
  const auto written = read_image(mask.toStdString());
  EXPECT_EQ(written.height(), 64);

  // The next start is a new run folder beside the same file.
  ASSERT_TRUE(controller.start(input, dir.filePath("scene.png")));
  controller.stop();
  EXPECT_FALSE(controller.isRunning());
  EXPECT_EQ(controller.runs().size(), 2);
  EXPECT_TRUE(controller.runs().last().endsWith("runs/run-002"));
}

TEST(TrainingController, ContinuesAStoppedRunToTheNewEpochCount) {
  QTemporaryDir dir;
  const auto scene = testing::labelledScene(64);
  TrainingController controller;
  QSignalSpy finished(&controller, &TrainingController::finished);
  auto input = testing::sceneJob(scene, QString(), 2);
  input.measureBaseline = false;
  ASSERT_TRUE(controller.start(input, dir.filePath("scene.png")));
  ASSERT_TRUE(waitFor([&] { return finished.count() == 1; }));
  const QString run = controller.runs().first();

  QSignalSpy epochs(&controller, &TrainingController::epochFinished);
  input.settings.epochs = 4;
  input.settings.preset = "gpu";  // the run's own model wins
  ASSERT_TRUE(controller.resumeRun(input, run));
  ASSERT_TRUE(waitFor([&] { return finished.count() == 2; }));
  EXPECT_TRUE(finished.last().at(0).toBool());
  EXPECT_EQ(epochs.count(), 2) << "epochs 3 and 4 only";
  ASSERT_TRUE(controller.latest());
  EXPECT_EQ(controller.latest()->epoch, 4);
  EXPECT_EQ(controller.latest()->net->config().preset, "cpu");
  EXPECT_EQ(controller.runs(), QStringList{run}) << "the same run, not a new one";

  QSignalSpy failed(&controller, &TrainingController::failed);
  ASSERT_TRUE(controller.resumeRun(input, dir.filePath("no-such-run")));
  ASSERT_TRUE(waitFor([&] { return finished.count() == 3; }));
  ASSERT_EQ(failed.count(), 1);
  EXPECT_TRUE(failed.first().at(0).toString().contains("no-such-run"))
      << failed.first().at(0).toString().toStdString();
}

// A 6x32x32 volume labelled in slice 2, for one epoch of the cpu preset.
TrainingJobInput labelledVolume(const QTemporaryDir& dir) {
  Image volume;
  volume.pixels = (torch::rand({1, 6, 32, 32}) * 200).to(torch::kUInt8);
  volume.path = dir.filePath("v.nii.gz").toStdString();
  volume.voxels = VoxelGeometry{{1.0, 1.0, 2.0}, {0, 0, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 1}};
  auto labels = torch::full({6, 32, 32}, 255, torch::kLong);
  labels[2].fill_(0);
  labels[2].narrow(0, 10, 10).fill_(1);
  TrainingJobInput input;
  input.image = volume;
  input.labels = labels;
  input.classes = ClassTable::from_names({"background", "thing"});
  input.settings.preset = "cpu";
  input.settings.epochs = 1;
  return input;
}

TEST(TrainingController, AVolumeSlicePredictionShowsTheNewestRequestOnly) {
  QTemporaryDir dir;
  auto input = labelledVolume(dir);
  input.settings.volumesIn3D = false;  // a 2D model, slice by slice
  input.measureBaseline = false;

  TrainingController controller;
  QSignalSpy finished(&controller, &TrainingController::finished);
  EXPECT_FALSE(controller.predictSlice(0, 1)) << "no model yet";
  ASSERT_TRUE(controller.start(input, dir.filePath("v.nii.gz")));
  ASSERT_TRUE(waitFor([&] { return finished.count() == 1; }));
  ASSERT_TRUE(controller.latest());

  QSignalSpy predicted(&controller, &TrainingController::slicePredicted);
  EXPECT_TRUE(controller.predictSlice(0, 1));
  EXPECT_TRUE(controller.predictSlice(0, 4));  // the user scrolled on: 1 is stale
  ASSERT_TRUE(waitFor([&] { return predicted.count() >= 1; }, 30000));
  waitFor([] { return false; }, 300);
  ASSERT_EQ(predicted.count(), 1);
  EXPECT_EQ(predicted.first().at(1).toLongLong(), 4);
  const auto ids = predicted.first().at(2).value<torch::Tensor>();
  EXPECT_EQ(ids.sizes(), (std::vector<int64_t>{32, 32}));

  QSignalSpy exported(&controller, &TrainingController::predictionExported);
  auto* task = controller.exportPrediction(dir.filePath("mask.nii.gz"));
  ASSERT_NE(task, nullptr) << "a volume is predicted in the background";
  ASSERT_TRUE(waitFor([&] { return exported.count() == 1; }, 60000));
  EXPECT_TRUE(exported.first().at(0).toBool()) << exported.first().at(1).toString().toStdString();
  EXPECT_TRUE(fs::exists(dir.filePath("mask.nii.gz").toStdString()));
}

// A volume trained whole (the default): a 3D model, its epoch's prediction
// covers the volume, every plane is answered from it at once, and the mask
// written is the 3D model's.
TEST(TrainingController, AVolumeTrainedWholeIn3DAnswersEveryPlaneFromItsPrediction) {
  QTemporaryDir dir;
  auto input = labelledVolume(dir);
  ASSERT_TRUE(input.settings.volumesIn3D) << "volumes train whole by default";
  input.measureBaseline = false;

  TrainingController controller;
  QSignalSpy finished(&controller, &TrainingController::finished);
  ASSERT_TRUE(controller.start(input, dir.filePath("v.nii.gz")));
  ASSERT_TRUE(waitFor([&] { return finished.count() == 1; }, 120000));
  ASSERT_TRUE(controller.latest());
  EXPECT_EQ(controller.latest()->net->config().backbone.dims, 3);
  const auto whole = controller.latest()->prediction;
  ASSERT_TRUE(whole.defined());
  EXPECT_EQ(whole.sizes(), (std::vector<int64_t>{6, 32, 32}));

  QSignalSpy predicted(&controller, &TrainingController::slicePredicted);
  EXPECT_FALSE(controller.predictSlice(2, 7)) << "nothing left pending: answered at once";
  ASSERT_EQ(predicted.count(), 1);
  const auto ids = predicted.first().at(2).value<torch::Tensor>();
  EXPECT_TRUE(torch::equal(ids, whole.select(2, 7)));

  QSignalSpy exported(&controller, &TrainingController::predictionExported);
  ASSERT_NE(controller.exportPrediction(dir.filePath("mask.nii.gz")), nullptr);
  ASSERT_TRUE(waitFor([&] { return exported.count() == 1; }, 60000));
  EXPECT_TRUE(exported.first().at(0).toBool()) << exported.first().at(1).toString().toStdString();
  const auto mask = read_image(dir.filePath("mask.nii.gz").toStdString());
  EXPECT_EQ(mask.pixels.sizes(), (std::vector<int64_t>{1, 6, 32, 32}));
}

}  // namespace
}  // namespace revup::ui
