#include "workflows/segmentation_training.h"

#include <filesystem>

#include "core/augmentation.h"
#include "core/device.h"
#include "models/network_steps.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_presets.h"
#include "workflows/run_folder.h"
#include "workflows/segmentation_run.h"
#include "workflows/training_run.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

std::string count(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

SegmentationConfig SegmentationModelChoice::resolve(int64_t in_channels,
                                                    int64_t num_classes) const {
  auto config = segmentation_preset(preset, in_channels, num_classes);
  if (memsave) config.backbone.arch = *memsave ? "revup-memsave" : "revup";
  if (lipschitz) config.backbone.sn.coeff = *lipschitz;
  if (fixed_point_iterations) config.backbone.inverse.iterations = *fixed_point_iterations;
  if (injective_stem) use_injective_stem(config);
  config.validate();
  return config;
}

SegmentationTrainingResult train_segmentation(const SegmentationTrainingRequest& request,
                                              const SegmentationTrainingData& data,
                                              SegmentationTrainingObserver& observer) {
  if (!data.train || data.train->size() == 0) {
    throw std::runtime_error("nothing to train on: no labelled images");
  }
  // On the CPU this installs the tracking allocator the memory figures read.
  const auto device = select_device(rank_device(request.run));
  const auto channels = static_cast<int64_t>(data.stats.mean.size());
  const auto classes = data.classes.size();
  const auto data_name = data.description.value("path", std::string("the data"));
  SegmentationConfig config;
  if (request.run.resume) {
    // The run's own description wins: the same model, as it was built.
    config = (data.resumed ? *data.resumed : read_segmentation_run(request.run.run_dir)).model;
    if (config.backbone.in_channels != channels || config.num_classes != classes) {
      throw std::runtime_error(request.run.run_dir + ": the run's model takes " +
                               std::to_string(config.backbone.in_channels) + " channels and " +
                               std::to_string(config.num_classes) + " classes; " + data_name +
                               " has " + std::to_string(channels) + " and " +
                               std::to_string(classes));
    }
  } else {
    config = request.model.resolve(channels, classes);
  }
  if (request.measure_baseline) {
    const auto example = data.train->get(0);
    observer.on_baseline(measure_segmentation_step(
        config, "resnet-fixup", example.input.unsqueeze(0), example.target.unsqueeze(0), device));
  }

  torch::manual_seed(request.run.seed);
  SegmentationNet net(config);
  net->to(device);

  auto options = training_run_options(request.run, device);
  auto& t = options.trainer;
  t.batch_size = 1;  // whole images, at full resolution
  t.steps_per_epoch = request.steps_per_epoch;
  t.record_memory = true;
  options.description =
      segmentation_description(config.to_json(), data.classes, data.stats, data.description);
  options.description["training_request"] = {
      {"dice", request.dice},
      {"augment", request.augment},
      {"scale_range", {request.min_scale, request.max_scale}}};
  for (const auto& [key, value] : data.sections.items()) options.description[key] = value;
  const bool validates = data.validation && data.validation->size() > 0;
  options.best_metric = validates ? "miou" : "";

  NewRunCleanup cleanup(RunFolder(request.run.run_dir),
                        request.run.resume || !writes_run_folder(options));
  TrainingRun run(trainable(net),
                  segmentation_loss_function({data.classes.ignore_index, request.dice}), options);
  // Ranks score every ranks-th validation image each and add up their
  // confusion matrices.
  const auto group = options.trainer.group;
  std::vector<size_t> share;
  for (size_t i = group ? group->rank() : 0; validates && i < data.validation->size();
       i += group ? group->size() : 1) {
    share.push_back(i);
  }
  if (validates) {
    const auto validation_share = std::make_shared<SubsetDataset>(*data.validation, share);
    std::vector<std::string> names;
    for (const auto& c : data.classes.classes) names.push_back(c.name);
    const auto logits = logits_function(net, device);
    run.set_evaluation([&, logits, names, group, validation_share] {
      PredictionCallback on_prediction;
      if (observer.wants_predictions()) {
        on_prediction = [&](size_t i, const torch::Tensor& ids) { observer.on_prediction(i, ids); };
      }
      auto cm = evaluate_segmentation(logits, group ? *validation_share : *data.validation, classes,
                                      data.classes.ignore_index, {}, {}, on_prediction);
      if (group) {
        ConfusionMatrix all(static_cast<int64_t>(classes), data.classes.ignore_index);
        auto counts = cm.counts().to(torch::kCPU).clone();
        group->all_reduce_sum({counts});
        all.add_counts(counts);
        cm = all;
      }
      cm.expect_classes(data.expected_classes);
      auto metrics = cm.metrics(names);
      observer.on_validated(net, metrics);
      return metrics;
    });
  }
  ForwardingObserver forward(observer);
  run.add_observer(&forward);

  AugmentationOptions augment;
  augment.flips = augment.rotations = request.augment;
  augment.intensity_jitter = request.augment ? 0.1 : 0.0;
  augment.min_scale = request.min_scale;
  augment.max_scale = request.max_scale;
  augment.ignore_index = data.classes.ignore_index;
  const AugmentedDataset augmented(*data.train, augment);

  TrainingStart start;
  start.run_dir = request.run.run_dir;
  start.resumed_after_epoch = run.completed_epochs();
  start.summary = "training " + config.backbone.arch + " (preset " +
                  (config.preset.empty() ? std::string("custom") : config.preset) + ") on " +
                  count(data.train->size(), "image", "images") + " (" +
                  std::to_string(validates ? data.validation->size() : 0) + " for validation)" +
                  (data.source.empty() ? "" : " " + data.source) + ", " +
                  count(static_cast<size_t>(classes), "class", "classes") +
                  ", batch size 1 at full resolution, " +
                  count(static_cast<size_t>(torch::get_num_threads()), "thread", "threads");
  observer.on_start(start);

  SegmentationTrainingResult result;
  result.finished = run.fit(augmented);
  result.completed_epochs = run.completed_epochs();
  result.saved = run.folder().has_checkpoint();
  result.last_metrics = run.last_metrics();
  if (validates && result.saved) result.best_miou = run.best_score();
  result.net = net;
  if (result.finished) cleanup.keep();
  return result;
}

SegmentationTrainingResult train_segmentation(
    const SegmentationTrainingRequest& request, const std::string& data_path,
    DatasetOptions options, SegmentationTrainingObserver& observer,
    const std::function<void(const std::string&, bool)>& note) {
  std::optional<SegmentationRunInfo> resumed;
  if (request.run.resume) {
    // Read as the run was: its normalization, slice axis and mask values.
    resumed = read_segmentation_run(request.run.run_dir);
    options.stats = resumed->stats;
    if (resumed->slice_axis >= 0) options.slice_axis = resumed->slice_axis;
    if (resumed->masks) {
      options.reading = DatasetOptions::FixedReading{*resumed->masks, resumed->classes};
    }
  } else {
    request.model.resolve(3, 2);  // a bad preset fails before data is read
  }
  const auto dataset = open_segmentation_dataset(data_path, options);
  if (dataset->size() == 0) throw std::runtime_error(data_path + ": no labelled images found");
  if (note) note(dataset->describe_masks(), false);
  const auto split = dataset->split();
  const auto warning = one_class_validation_warning(*dataset, split.val);
  if (note && !warning.empty()) note(warning, true);
  const SubsetDataset train(*dataset, split.train), val(*dataset, split.val);

  SegmentationTrainingData data;
  data.train = &train;
  data.validation = &val;
  data.classes = dataset->classes();
  data.stats = dataset->stats();
  data.expected_classes = present_classes(*dataset);
  data.description = {{"path", fs::absolute(data_path).string()},
                      {"layout", dataset->layout()},
                      {"images", dataset->size()},
                      {"train", train.size()},
                      {"val", val.size()},
                      {"slice_axis", dataset->options().slice_axis},
                      {"val_fraction", options.val_fraction}};
  data.sections["masks"] = dataset->mask_reading();
  data.sections["masks_found"] =
      mask_values_json(dataset->mask_values(all_indices(dataset->size())));
  data.source = "from " + data_path + ", " + dataset->layout() + " layout";
  data.resumed = std::move(resumed);
  return train_segmentation(request, data, observer);
}

}  // namespace revup
