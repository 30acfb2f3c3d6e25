#include "ui/training_job.h"

#include <filesystem>

#include "core/augmentation.h"
#include "core/confusion_matrix.h"
#include "core/device.h"
#include "core/training_run.h"
#include "io/run_description.h"
#include "models/segmentation_loss.h"
#include "models/state_utils.h"
#include "models/network_steps.h"
#include "ui/labelled_image_dataset.h"

namespace revup::ui {
namespace {

// Prediction and per-class IoU on the labelled examples, in eval mode.
std::shared_ptr<ModelSnapshot> snapshot(SegmentationNet net, const LabelledImageDataset& data,
                                        const ClassTable& classes, const c10::Device& device) {
  auto s = std::make_shared<ModelSnapshot>();
  s->net = evalCopy(net);
  s->stats = data.stats();

  const bool wasTraining = net->is_training();
  net->eval();
  torch::NoGradGuard noGrad;
  ConfusionMatrix confusion(classes.size(), classes.ignore_index);
  for (size_t i = 0; i < data.size(); ++i) {
    const auto example = data.get(i);
    const auto ids = net->forward(example.input.unsqueeze(0).to(device)).argmax(1)[0].cpu();
    confusion.add(ids, example.target);
    if (data.normalized().dim() == 3) s->prediction = ids;
  }
  net->train(wasTraining);
  std::vector<std::string> names;
  for (const auto& c : classes.classes) names.push_back(c.name);
  s->metrics = confusion.metrics(names);
  return s;
}

// Forwards the trainer's events and adds a snapshot after every epoch.
class SnapshotObserver : public TrainObserver {
 public:
  SnapshotObserver(TrainingJobObserver& out, std::function<void(const EpochReport&)> onEpoch)
      : out_(out), onEpoch_(std::move(onEpoch)) {}
  void on_step(const StepReport& s) override { out_.on_step(s); }
  void on_memory(const MemoryEvent& e) override { out_.on_memory(e); }
  void on_epoch(const EpochReport& e) override {
    out_.on_epoch(e);
    onEpoch_(e);
  }
  bool cancel_requested() override { return out_.cancel_requested(); }

 private:
  TrainingJobObserver& out_;
  std::function<void(const EpochReport&)> onEpoch_;
};

}  // namespace

SegmentationNet evalCopy(const SegmentationNet& net) {
  SegmentationNet copy(net->config());
  copy_state(*net, *copy);
  copy->to(torch::kCPU);
  copy->eval();
  return copy;
}

bool runTrainingJob(const TrainingJobInput& input, TrainingJobObserver& observer) {
  // On the CPU this installs the tracking allocator the memory chart reads.
  const auto device = select_device(input.settings.device);
  const LabelledImageDataset data(input.image, input.labels, input.classes.ignore_index,
                                  input.sliceAxis);
  const auto config = input.settings.modelConfig(input.image.channels(), input.classes.size());
  if (input.measureBaseline) {
    const auto example = data.get(0);
    observer.on_baseline(measure_segmentation_step(
        config, "resnet-fixup", example.input.unsqueeze(0), example.target.unsqueeze(0), device));
  }

  torch::manual_seed(input.settings.seed);
  SegmentationNet net(config);
  net->to(device);

  TrainingRunOptions options;
  options.dir = input.runDir;
  options.resume = input.resume;
  auto& t = options.trainer;
  t.epochs = input.settings.epochs;
  t.batch_size = 1;
  t.lr = input.settings.learningRate;
  t.weight_decay = 1e-4;
  t.schedule = LrSchedule::kCosine;
  t.seed = input.settings.seed;
  t.record_memory = true;
  t.device = device;
  nlohmann::json dataJson = {
      {"path", input.image.path},
      {"layout", "gui"},
      {"images", 1},
      {"train", data.size()},
      {"val", 0},
      {"slice_axis", input.image.is_volume() ? input.sliceAxis : -1},
      {"labelled_pixels", data.labels().ne(input.classes.ignore_index).sum().item<int64_t>()}};
  options.description =
      segmentation_description(config.to_json(), input.classes, data.stats(), dataJson);
  options.description["gui_settings"] = input.settings;
  // The labels are the only data: the score on them decides the best epoch.
  options.best_metric = "miou";

  TrainingRun run(trainable(net), segmentation_loss_function({input.classes.ignore_index, 0.0}),
                  options);
  std::shared_ptr<ModelSnapshot> latest;
  run.set_evaluation([&] {
    latest = snapshot(net, data, input.classes, device);
    return latest->metrics;
  });
  SnapshotObserver forward(observer, [&](const EpochReport& epoch) {
    if (!latest) return;
    latest->epoch = epoch.epoch;
    observer.on_snapshot(std::move(latest));
  });
  run.add_observer(&forward);

  AugmentationOptions augment;
  augment.flips = augment.rotations = input.settings.augment;
  augment.intensity_jitter = input.settings.augment ? 0.1 : 0.0;
  augment.ignore_index = input.classes.ignore_index;
  const AugmentedDataset augmented(data, augment);
  return run.fit(augmented);
}

}  // namespace revup::ui
