// The GUI's training without any window: a labelled image in, a run folder the
// CLI can read out, memory samples for every block of every step, snapshots
// whose predictions learn the painted classes.
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/ui/training_test_util.h"
#include "ui/models/labelled_image_dataset.h"
#include "ui/models/training_job.h"

namespace revup::ui {
namespace {

namespace fs = std::filesystem;

struct Recorder : TrainingJobObserver {
  int steps = 0, epochs = 0, baselines = 0;
  std::vector<MemoryEvent> memory;
  std::vector<std::vector<MemoryEvent>> perStep;
  std::vector<std::shared_ptr<const ModelSnapshot>> snapshots;
  StepMeasurement baseline;
  int stopAfterSteps = -1;

  void on_step(const StepReport&) override {
    ++steps;
    perStep.push_back(memory);
    memory.clear();
  }
  void on_epoch(const EpochReport&) override { ++epochs; }
  void on_memory(const MemoryEvent& e) override { memory.push_back(e); }
  void on_baseline(const StepMeasurement& m) override {
    ++baselines;
    baseline = m;
  }
  void on_snapshot(std::shared_ptr<const ModelSnapshot> s) override { snapshots.push_back(s); }
  bool cancel_requested() override { return stopAfterSteps >= 0 && steps >= stopAfterSteps; }
};

TrainingJobInput tinyJob(const testing::LabelledScene& scene, const QString& runDir, int epochs) {
  auto in = testing::sceneJob(scene, runDir, epochs);
  in.settings.learningRate = 0.05;
  return in;
}

TEST(LabelledImageDataset, OnlyLabelledPixelsTeach) {
  const auto scene = testing::labelledScene(32);
  LabelledImageDataset data(scene.image, scene.paintedLabels, 255);
  ASSERT_EQ(data.size(), 1u);
  const auto example = data.get(0);
  EXPECT_EQ(example.input.sizes(), (std::vector<int64_t>{3, 32, 32}));
  EXPECT_TRUE(torch::equal(example.target, scene.paintedLabels));
  EXPECT_NEAR(example.input.mean().item<double>(), 0.0, 1e-3);  // normalized

  auto unlabelled = torch::full({32, 32}, 255, torch::kLong);
  try {
    LabelledImageDataset empty(scene.image, unlabelled, 255);
    FAIL() << "an image with no labels must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing is labelled"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LabelledImageDataset(scene.image, torch::zeros({31, 32}, torch::kLong), 255),
               std::runtime_error);
}

TEST(LabelledImageDataset, VolumeServesLabelledSlicesAlongTheAxis) {
  Image volume;
  volume.pixels = torch::rand({1, 5, 8, 6});
  volume.path = "v.nii.gz";
  auto labels = torch::full({5, 8, 6}, 255, torch::kLong);
  labels[1].fill_(0);
  labels[3][2][2] = 1;
  LabelledImageDataset data(volume, labels, 255, /*axis=*/0);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data.sliceOf(0), 1);
  EXPECT_EQ(data.sliceOf(1), 3);
  EXPECT_EQ(data.get(1).input.sizes(), (std::vector<int64_t>{1, 8, 6}));
  LabelledImageDataset along2(volume, labels, 255, /*axis=*/2);
  EXPECT_EQ(along2.size(), 6u);  // slice 1 is labelled everywhere: every x has a label
  EXPECT_EQ(along2.get(0).target.sizes(), (std::vector<int64_t>{5, 8}));
}

TEST(TrainingJob, LearnsThePaintedClassesAndWritesARunTheCliReads) {
  QTemporaryDir dir;
  const auto scene = testing::labelledScene(64);
  const QString run = dir.filePath("run");
  Recorder rec;
  ASSERT_TRUE(runTrainingJob(tinyJob(scene, run, 25), rec));

  EXPECT_EQ(rec.epochs, 25);
  EXPECT_EQ(rec.steps, 25);  // one image: one step per epoch
  EXPECT_EQ(rec.baselines, 1);
  EXPECT_FALSE(rec.baseline.timeline.empty());
  // Every step samples every block once forward and once backward.
  const auto& first = rec.perStep.front();
  ASSERT_FALSE(first.empty());
  int forward = 0, backward = 0;
  for (const auto& e : first) (e.phase == Phase::kForward ? forward : backward)++;
  EXPECT_EQ(forward, backward);
  for (const auto& step : rec.perStep) EXPECT_EQ(step.size(), first.size());

  ASSERT_EQ(rec.snapshots.size(), 25u);
  const auto& last = *rec.snapshots.back();
  EXPECT_EQ(last.epoch, 25);
  ASSERT_EQ(last.prediction.sizes(), (std::vector<int64_t>{64, 64}));
  // Learned from a band of painted rows, judged on every pixel of the image.
  const double accuracy =
      last.prediction.eq(scene.fullLabels).to(torch::kDouble).mean().item<double>();
  std::printf("pixel accuracy on the whole image after 25 epochs: %.3f (mIoU on the labels %.3f)\n",
              accuracy, last.metrics.at("miou"));
  EXPECT_GT(accuracy, 0.85);
  EXPECT_GT(last.metrics.at("miou"), rec.snapshots.front()->metrics.at("miou") - 1e-9);
  for (const char* f : {"config.json", "metrics.csv", "last.pt", "best.pt"}) {
    EXPECT_TRUE(fs::exists(fs::path(run.toStdString()) / f)) << f;
  }
}

TEST(TrainingJob, StopKeepsTheLastCompletedEpochAndResumes) {
  QTemporaryDir dir;
  const auto scene = testing::labelledScene(32);
  const QString run = dir.filePath("run");
  Recorder first;
  first.stopAfterSteps = 3;
  auto job = tinyJob(scene, run, 10);
  job.measureBaseline = false;
  EXPECT_FALSE(runTrainingJob(job, first));
  EXPECT_EQ(first.epochs, 3);
  ASSERT_TRUE(fs::exists(fs::path(run.toStdString()) / "last.pt"));

  Recorder second;
  job.resume = true;
  EXPECT_TRUE(runTrainingJob(job, second));
  EXPECT_EQ(second.epochs, 7);  // the remaining epochs only
  EXPECT_EQ(second.snapshots.back()->epoch, 10);
}

TEST(TrainingJob, BadInputIsAClearError) {
  QTemporaryDir dir;
  const auto scene = testing::labelledScene(32);
  auto job = tinyJob(scene, dir.filePath("run"), 1);
  job.labels = torch::zeros({16, 16}, torch::kLong);
  try {
    Recorder rec;
    runTrainingJob(job, rec);
    FAIL() << "mismatched labels must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("scene.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace revup::ui
