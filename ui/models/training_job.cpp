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

  // A 2D image, or a volume trained whole, is one example: its prediction is the whole one's.
  bool wants_predictions() const override { return data_.servesWhole(); }
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
  // No warm-up power iterations: copy_state brings the trained probes (in 3D
  // the warm-up on 32^3 grids cost more than the epoch it follows).
  auto config = net->config();
  config.backbone.sn.warmup_iterations = 0;
  SegmentationNet copy(config);
  copy_state(*net, *copy);
  copy->to(torch::kCPU);
  copy->eval();
  return copy;
}

bool runTrainingJob(const TrainingJobInput& input, TrainingJobObserver& observer) {
  // Resuming, the run's own normalization: the same pixels mean the same to its model.
  std::optional<SegmentationRunInfo> resumed;
  if (input.resume) resumed = read_segmentation_run(input.runDir);
  // A volume trains whole in 3D unless the settings say slice by slice; a
  // resumed run keeps its model's dimensions.
  int dims = input.image.is_volume() && input.settings.volumesIn3D ? 3 : 2;
  if (resumed) dims = static_cast<int>(resumed->model.backbone.dims);
  const LabelledImageDataset labelled(
      input.image, input.labels, input.classes.ignore_index, input.sliceAxis,
      resumed ? std::optional<ChannelStats>(resumed->stats) : std::nullopt, dims);
  SegmentationTrainingData data;
  data.dims = dims;
  if (dims == 3 && input.image.voxels) {
    const auto& xyz = input.image.voxels->spacing;  // ITK's (x, y, z); the tensor's (D, H, W)
    data.spacing = {xyz[2], xyz[1], xyz[0]};
  }
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
      {"dims", dims},
      {"slice_axis", input.image.is_volume() && dims == 2 ? input.sliceAxis : -1},
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
