// The one training workflow, as revup-cli train, the demo and the GUI call
// it: every request option reaches the run folder, a run resumes with its own
// model, a new run that fails leaves nothing behind, and a run that does not
// fit the data is refused by name.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "io/demo_scene.h"
#include "workflows/run_folder.h"
#include "workflows/segmentation_run.h"
#include "workflows/segmentation_training.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

struct Scene {
  ClassTable classes;
  ChannelStats stats;
  std::unique_ptr<SingleExample> data;
};

Scene scene(int64_t size) {
  const auto demo = make_demo_scene(size, size, 3);
  Scene s;
  s.classes = demo_scene_classes(demo);
  Image image;
  image.pixels = demo.image;
  image.path = "scene";
  ChannelStatsAccumulator acc;
  acc.add(image);
  s.stats = acc.finish();
  s.data = std::make_unique<SingleExample>(Example{normalize(image, s.stats), demo.mask});
  return s;
}

SegmentationTrainingData training_data(const Scene& s) {
  SegmentationTrainingData d;
  d.train = s.data.get();
  d.validation = s.data.get();
  d.classes = s.classes;
  d.stats = s.stats;
  d.description = {{"path", "a generated scene"}};
  return d;
}

struct Recorder : SegmentationTrainingObserver {
  int64_t dims = 2;  // of the predictions
  int epochs = 0, validations = 0, predictions = 0, starts = 0;
  int stop_after_steps = -1, steps = 0;
  TrainingStart start;
  void on_start(const TrainingStart& s) override {
    ++starts;
    start = s;
  }
  void on_step(const StepReport&) override { ++steps; }
  void on_epoch(const EpochReport&) override { ++epochs; }
  void on_validated(const SegmentationNet& net, const std::map<std::string, double>& m) override {
    ++validations;
    EXPECT_FALSE(net->is_training()) << "scored in eval mode";
    EXPECT_EQ(m.count("miou"), 1u);
  }
  bool wants_predictions() const override { return true; }
  void on_prediction(size_t, const torch::Tensor& ids) override {
    ++predictions;
    EXPECT_EQ(ids.dim(), dims);
  }
  bool cancel_requested() override { return stop_after_steps >= 0 && steps >= stop_after_steps; }
};

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("revup-workflow-test-" + name);
  fs::remove_all(dir);
  return dir;
}

SegmentationTrainingRequest tiny_request(const fs::path& dir, int epochs) {
  SegmentationTrainingRequest r;
  r.run.run_dir = dir.string();
  r.model.preset = "cpu";
  r.run.epochs = epochs;
  r.run.lr = 0.05;
  r.run.weight_decay = 3e-4;
  r.dice = 0.5;
  r.run.clip_grad = 2.0;
  r.run.seed = 7;
  return r;
}

TEST(SegmentationTraining, TheRequestReachesTheRunFolderAndTheRunResumes) {
  const auto s = scene(64);
  const auto dir = fresh_dir("resume");
  Recorder first;
  first.stop_after_steps = 2;
  auto request = tiny_request(dir, 3);
  auto result = train_segmentation(request, training_data(s), first);
  EXPECT_FALSE(result.finished);
  EXPECT_TRUE(result.saved);
  EXPECT_EQ(result.completed_epochs, 2);
  EXPECT_EQ(first.validations, 2);
  EXPECT_EQ(first.predictions, 2);
  EXPECT_EQ(first.starts, 1);
  EXPECT_EQ(first.start.resumed_after_epoch, 0);
  EXPECT_NE(first.start.summary.find("5 classes"), std::string::npos) << first.start.summary;

  const auto run = read_segmentation_run(dir.string());
  EXPECT_EQ(run.model.preset, "cpu");
  EXPECT_EQ(run.classes.size(), 5);
  const auto& training = run.config.at("training");
  EXPECT_DOUBLE_EQ(training.at("weight_decay").get<double>(), 3e-4);
  EXPECT_DOUBLE_EQ(training.at("clip_grad_norm").get<double>(), 2.0);
  EXPECT_EQ(training.at("batch_size").get<int>(), 1);
  EXPECT_DOUBLE_EQ(run.config.at("training_request").at("dice").get<double>(), 0.5);
  EXPECT_EQ(RunFolder(dir.string()).read_metrics().size(), 2u);

  // Resuming, the run's own model wins over whatever the request now says.
  Recorder second;
  request.run.resume = true;
  request.model.preset = "gpu";
  result = train_segmentation(request, training_data(s), second);
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(second.start.resumed_after_epoch, 2);
  EXPECT_EQ(second.epochs, 1);
  EXPECT_EQ(result.net->config().preset, "cpu");
  ASSERT_TRUE(result.best_miou.has_value());
  EXPECT_EQ(RunFolder(dir.string()).read_metrics().size(), 3u);
  fs::remove_all(dir);
}

TEST(SegmentationTraining, ResumingARunKilledWhileWritingItsConfigSaysNothingToResume) {
  // Killed inside its first write (cli.crash.kill_training, one trial in 20
  // at about 0.5 s): the folder holds the dead writer's temporary and no
  // config.json. --resume must say there is nothing to resume, as for any run
  // without last.pt, not that config.json is missing.
  const auto s = scene(64);
  const auto dir = fresh_dir("killed-in-config");
  fs::create_directories(dir);
  std::ofstream(dir / ".revup-write-677-config.json") << "{\"mod";
  auto request = tiny_request(dir, 2);
  request.run.resume = true;
  Recorder rec;
  try {
    train_segmentation(request, training_data(s), rec);
    ADD_FAILURE() << "resumed a run that has no last.pt";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "last.pt").string() + ": nothing to resume");
  }
  fs::remove_all(dir);
}

TEST(SegmentationTraining, ANewRunStoppedBeforeItsFirstEpochLeavesNothing) {
  const auto s = scene(64);
  const auto dir = fresh_dir("stopped");
  Recorder rec;
  rec.stop_after_steps = 0;  // stopped before the first step ends
  const auto result = train_segmentation(tiny_request(dir, 2), training_data(s), rec);
  EXPECT_FALSE(result.finished);
  EXPECT_FALSE(result.saved);
  EXPECT_FALSE(fs::exists(dir)) << "a run that saved nothing is removed";
}

TEST(SegmentationTraining, ARunThatDoesNotFitTheDataIsRefusedByName) {
  const auto s = scene(64);
  const auto dir = fresh_dir("mismatch");
  Recorder rec;
  ASSERT_TRUE(train_segmentation(tiny_request(dir, 1), training_data(s), rec).finished);
  auto data = training_data(s);
  data.classes.classes.pop_back();
  auto request = tiny_request(dir, 2);
  request.run.resume = true;
  try {
    train_segmentation(request, data, rec);
    FAIL() << "a run of 5 classes must not resume on data of 4";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string() + ": the run's model takes 3 channels and 5 "
                                                        "classes; a generated scene has 3 and 4"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::exists(dir / "last.pt")) << "the refused resume leaves the run as it was";
  SegmentationTrainingData empty;
  EXPECT_THROW(train_segmentation(tiny_request(fresh_dir("empty"), 1), empty, rec),
               std::runtime_error);
  fs::remove_all(dir);
}

// A ball (class 1) in a noisy volume, normalized per volume as volume
// datasets are.
struct VolumeScene {
  ClassTable classes = ClassTable::numbered(2);
  ChannelStats stats;
  std::unique_ptr<SingleExample> data;
};

VolumeScene volume_scene(int64_t d, int64_t h, int64_t w) {
  torch::manual_seed(5);
  const auto z = torch::arange(d).view({d, 1, 1}) - d / 2;
  const auto y = torch::arange(h).view({1, h, 1}) - h / 2;
  const auto x = torch::arange(w).view({1, 1, w}) - w / 2;
  const auto labels = (z * z + y * y + x * x).lt(d * d / 9).to(torch::kLong);
  Image volume;
  volume.pixels = (labels.to(torch::kFloat) + 0.3 * torch::randn({d, h, w})).unsqueeze(0);
  volume.path = "ball";
  VolumeScene s;
  ChannelStatsAccumulator acc;
  acc.add(volume);
  s.stats = acc.finish();
  s.stats.per_image = true;
  s.data = std::make_unique<SingleExample>(Example{normalize(volume, s.stats), labels});
  return s;
}

// Whole volumes train a 3D model (its patch stem following anisotropic
// voxels); its step's memory is estimated before the first step, and a volume
// that would need more than the limit is refused, by name, with what to do
// instead, before a run folder exists.
TEST(SegmentationTraining, VolumesTrainInThreeDimensionsWithinTheirMemoryEstimate) {
  const auto s = volume_scene(24, 32, 28);
  SegmentationTrainingData data;
  data.train = data.validation = s.data.get();
  data.classes = s.classes;
  data.stats = s.stats;
  data.dims = 3;
  data.spacing = {2.5, 1, 1};  // slices 2.5 times as far apart as the voxels in plane
  data.description = {{"path", "a generated ball"}};
  auto request = tiny_request(fresh_dir("volume"), 2);
  request.run.lr = 0.1;
  request.model.preset = "cpu";
  Recorder rec;
  rec.dims = 3;
  const auto result = train_segmentation(request, data, rec);
  ASSERT_TRUE(result.finished);
  EXPECT_EQ(rec.predictions, 2);
  EXPECT_NE(rec.start.summary.find("on 1 volume"), std::string::npos) << rec.start.summary;
  EXPECT_NE(rec.start.summary.find("3D training step on 24x32x28 voxels needs about"),
            std::string::npos)
      << rec.start.summary;
  EXPECT_NE(rec.start.summary.find("anisotropic voxels (2.5 x 1 x 1 along D, H, W): patch stem "
                                   "strides 2x4x4"),
            std::string::npos)
      << rec.start.summary;
  const auto run = read_segmentation_run(request.run.run_dir);
  EXPECT_EQ(run.model.backbone.dims, 3);
  EXPECT_EQ(run.model.backbone.stem_strides, (std::vector<int64_t>{2, 4, 4}));
  EXPECT_TRUE(run.stats.per_image);
  EXPECT_EQ(run.dataset_options().dims, 3);
  EXPECT_EQ(result.last_metrics.count("mean_dice"), 1u);

  auto tight = tiny_request(fresh_dir("volume-too-large"), 1);
  tight.memory_limit_mib = 1;
  try {
    train_segmentation(tight, data, rec);
    FAIL() << "a 1 MiB limit must refuse the volume";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    for (const char* part : {"a generated ball: a whole-volume 3D training step on 24x32x28",
                             "the limit is 1 MiB", "--dims 2", "--window"}) {
      EXPECT_NE(what.find(part), std::string::npos) << part << " in: " << what;
    }
  }
  EXPECT_FALSE(fs::exists(tight.run.run_dir)) << "refused before the run folder was made";
  fs::remove_all(request.run.run_dir);
}

}  // namespace
}  // namespace revup
