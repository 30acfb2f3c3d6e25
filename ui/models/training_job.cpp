#include "ui/models/training_job.h"

#include "models/state_utils.h"
#include "ui/models/labelled_image_dataset.h"
#include "workflows/segmentation_run.h"

namespace revup::ui {
namespace {

// Turns the workflow's validation on the labelled image into a snapshot per
// epoch: a copy of the model as scored, its metrics and (2D) its prediction.
class SnapshotObserver : public SegmentationTrainingObserver {
 public:
  SnapshotObserver(TrainingJobObserver& out, const LabelledImageDataset& data)
      : out_(out), data_(data) {}
  void on_baseline(const StepMeasurement& m) override { out_.on_baseline(m); }
  void on_start(const TrainingStart& s) override { out_.on_start(s); }
  void on_step(const StepReport& s) override { out_.on_step(s); }
  void on_memory(const MemoryEvent& e) override { out_.on_memory(e); }
  bool cancel_requested() override { return out_.cancel_requested(); }

  // A 2D image is one example: its prediction is the whole image's.
  bool wants_predictions() const override { return data_.normalized().dim() == 3; }
  void on_prediction(size_t, const torch::Tensor& ids) override { prediction_ = ids; }
  void on_validated(const SegmentationNet& net,
                    const std::map<std::string, double>& metrics) override {
    latest_ = std::make_shared<ModelSnapshot>();
    latest_->net = evalCopy(net);
    latest_->stats = data_.stats();
    latest_->metrics = metrics;
    latest_->prediction = prediction_;
  }
  void on_epoch(const EpochReport& e) override {
    out_.on_epoch(e);
    if (!latest_) return;
    latest_->epoch = e.epoch;
    out_.on_snapshot(std::move(latest_));
  }

 private:
  TrainingJobObserver& out_;
  const LabelledImageDataset& data_;
  torch::Tensor prediction_;
  std::shared_ptr<ModelSnapshot> latest_;
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
  // Resuming, the run's own normalization: the same pixels mean the same to its model.
  std::optional<SegmentationRunInfo> resumed;
  if (input.resume) resumed = read_segmentation_run(input.runDir);
  const LabelledImageDataset labelled(
      input.image, input.labels, input.classes.ignore_index, input.sliceAxis,
      resumed ? std::optional<ChannelStats>(resumed->stats) : std::nullopt);
  SegmentationTrainingData data;
  data.train = &labelled;
  // The labels are the only data: the score on them decides the best epoch.
  data.validation = &labelled;
  data.classes = input.classes;
  data.stats = labelled.stats();
  data.description = {
      {"path", input.image.path},
      {"layout", "gui"},
      {"images", 1},
      {"train", labelled.size()},
      {"val", 0},
      {"slice_axis", input.image.is_volume() ? input.sliceAxis : -1},
      {"labelled_pixels", labelled.labels().ne(input.classes.ignore_index).sum().item<int64_t>()}};
  data.sections["gui_settings"] = input.settings;
  data.source = "from the labels painted on " + input.image.path;
  data.resumed = std::move(resumed);

  auto request = input.settings.trainingRequest(input.runDir);
  request.run.resume = input.resume;
  request.measure_baseline = input.measureBaseline;
  SnapshotObserver snapshots(observer, labelled);
  return train_segmentation(request, data, snapshots).finished;
}

}  // namespace revup::ui
