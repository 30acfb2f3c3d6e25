#include "workflows/segmentation_training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/augmentation.h"
#include "core/device.h"
#include "core/memory_tracker.h"
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

std::string mib(std::int64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

std::string voxels(const torch::Tensor& volume) {  // [C, D, H, W] -> "DxHxW"
  std::string s;
  for (int64_t a = 1; a < volume.dim(); ++a) {
    s += (a > 1 ? "x" : "") + std::to_string(volume.size(a));
  }
  return s;
}

// The stem's strides when the voxels' spacing chose them.
std::string anisotropy_note(const std::vector<int64_t>& strides,
                            const std::vector<double>& spacing) {
  if (strides.empty()) return "";
  std::string s = "; anisotropic voxels (";
  char number[32];
  for (size_t a = 0; a < spacing.size(); ++a) {
    std::snprintf(number, sizeof number, "%s%g", a ? " x " : "", spacing[a]);
    s += number;
  }
  s += " along D, H, W): patch stem strides ";
  for (size_t a = 0; a < strides.size(); ++a) s += (a ? "x" : "") + std::to_string(strides[a]);
  return s;
}

// The largest example, and the most CPU memory loading any one took (its
// bytes with the reader's and the normalization's temporaries): the trainer
// loads its batch inside the step. At ch2, before the per-volume statistics
// were computed in chunks, loading peaked at 122 MiB above what was live and
// the step measured 159 MiB against an estimate of 109.
struct LoadedExample {
  Example example;
  std::int64_t load_peak_bytes = 0;
};

LoadedExample largest_example(const Dataset& data) {
  const c10::Device cpu(c10::DeviceType::CPU);
  LoadedExample largest;
  for (size_t i = 0; i < data.size(); ++i) {
    MemoryTracker::reset_peak(cpu);
    const auto before = MemoryTracker::live_bytes(cpu);
    auto e = data.get(i);
    largest.load_peak_bytes =
        std::max(largest.load_peak_bytes, MemoryTracker::peak_bytes(cpu) - before);
    if (i == 0 || e.target.numel() > largest.example.target.numel()) {
      largest.example = std::move(e);
    }
  }
  return largest;
}

// A 3D step's memory, estimated before the first one runs, against what the
// device has: a volume too large fails here, naming itself and what it needs,
// not after an out-of-memory kill an hour in. Returns the sentence the start
// line adds.
std::string check_volume_step_fits(SegmentationNet& net, const LoadedExample& loaded,
                                   const SegmentationTrainingRequest& request,
                                   const std::string& data_name, const c10::Device& device) {
  auto example = loaded.example;
  for (size_t a = 0; a < request.window.size() && a + 1 < size_t(example.input.dim()); ++a) {
    const auto size = std::min(request.window[a], example.target.size(static_cast<int64_t>(a)));
    example.input = example.input.narrow(static_cast<int64_t>(a) + 1, 0, size);
    example.target = example.target.narrow(static_cast<int64_t>(a), 0, size);
  }
  auto estimate =
      estimate_volume_step(net, example.input.unsqueeze(0), example.target.unsqueeze(0), device);
  // The trainer's step also holds the example it loaded (its batch), which the
  // estimate's steps were given from outside.
  estimate.bytes += static_cast<std::int64_t>(example.input.nbytes() + example.target.nbytes());
  // On the CPU, loading that example is part of the step too, before the
  // forward, beside the training state: the step needs the larger of the two.
  if (device.is_cpu()) {
    estimate.bytes = std::max(estimate.bytes, loaded.load_peak_bytes + estimate.state_bytes);
  }
  const std::int64_t limit = request.memory_limit_mib > 0 ? request.memory_limit_mib << 20
                                                          : MemoryTracker::total_bytes(device);
  const std::string what = (request.window.empty() ? "a whole-volume" : "a windowed") +
                           std::string(" 3D training step on ") + voxels(example.input) +
                           " voxels needs about " + mib(estimate.bytes) +
                           (estimate.measured ? " (measured)" : " (estimated from two thin slabs)");
  if (limit > 0 && estimate.bytes > limit) {
    throw std::runtime_error(
        data_name + ": " + what + "; " +
        (request.memory_limit_mib > 0 ? "the limit is "
                                      : "the device (" + device.str() + ") has ") +
        mib(limit) + ". Train slice by slice (--dims 2) or on windows (--window D H W).");
  }
  return what + (limit > 0 ? " of " + mib(limit) : "");
}

// Volumes are not resampled: the stem's strides follow the first volume's
// spacing, and a volume sampled otherwise (by more than 10 % on an axis) is
// named, since the network then sees its anatomy at another scale.
std::string spacing_mismatch_warning(const SegmentationDataset& dataset) {
  const auto first = dataset.image(0).voxels;
  if (!first) return {};
  for (size_t i = 1; i < dataset.size(); ++i) {
    const auto other = dataset.image(i).voxels;
    if (!other) continue;
    for (size_t a = 0; a < 3; ++a) {
      if (std::abs(other->spacing[a] / first->spacing[a] - 1) > 0.1) {
        char text[256];
        std::snprintf(text, sizeof text,
                      "%s has voxels of %g x %g x %g mm, %s of %g x %g x %g mm: volumes are not "
                      "resampled (the stem follows the first); resample them alike for a "
                      "network that sees every volume at one scale",
                      dataset.name(i).c_str(), other->spacing[0], other->spacing[1],
                      other->spacing[2], dataset.name(0).c_str(), first->spacing[0],
                      first->spacing[1], first->spacing[2]);
        return text;
      }
    }
  }
  return {};
}

// The training example with the most voxels: the step that must fit.

}  // namespace

SegmentationConfig SegmentationModelChoice::resolve(int64_t in_channels, int64_t num_classes,
                                                    int64_t dims,
                                                    const std::vector<double>& spacing) const {
  auto config = segmentation_preset(preset, in_channels, num_classes);
  config.backbone.dims = dims;
  if (dims == 3 && config.backbone.stem == "patch" && !injective_stem) {
    config.backbone.stem_strides = anisotropic_patch_strides(spacing);
  }
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
    RunFolder(request.run.run_dir).require_checkpoint_to_resume();
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
    config = request.model.resolve(channels, classes, data.dims, data.spacing);
  }
  if (!request.window.empty() && static_cast<int64_t>(request.window.size()) != data.dims) {
    throw std::runtime_error("--window: " + std::to_string(request.window.size()) + " sizes; " +
                             data_name + " needs " +
                             (data.dims == 3 ? "D H W (whole volumes)" : "H W (images or slices)"));
  }
  if (config.backbone.dims != data.dims) {
    throw std::runtime_error(request.run.run_dir + ": the run's model is " +
                             std::to_string(config.backbone.dims) + "D; " + data_name +
                             " is served in " + std::to_string(data.dims) + "D");
  }
  const auto measure_baseline = [&] {
    if (!request.measure_baseline) return;
    const auto example = data.train->get(0);
    observer.on_baseline(measure_segmentation_step(
        config, "resnet-fixup", example.input.unsqueeze(0), example.target.unsqueeze(0), device));
  };
  // 2D: the baseline first, so the seed below starts the run as without it.
  if (data.dims != 3) measure_baseline();

  torch::manual_seed(request.run.seed);
  SegmentationNet net(config);
  net->to(device);
  // Before the run loads a checkpoint: the estimate's steps advance the probes.
  const auto memory_note =
      data.dims == 3
          ? check_volume_step_fits(net, largest_example(*data.train), request, data_name, device)
          : std::string();
  // 3D: after the check, so a volume too large is refused by name before
  // ResNet+Fixup's step (several times MemSave's) could exhaust the memory.
  if (data.dims == 3) measure_baseline();

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
      {"scale_range", {request.min_scale, request.max_scale}},
      {"window", request.window}};
  for (const auto& [key, value] : data.sections.items()) options.description[key] = value;
  const bool validates = data.validation && data.validation->size() > 0;
  options.best_metric = validates ? "miou" : "";

  NewRunCleanup cleanup(RunFolder(request.run.run_dir),
                        request.run.resume || !writes_run_folder(options));
  auto objective = training_objective(net, {data.classes.ignore_index, request.dice});
  TrainingRun run(objective.model, objective.loss, options);
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
  augment.window = request.window;
  const AugmentedDataset augmented(*data.train, augment);

  TrainingStart start;
  start.run_dir = request.run.run_dir;
  start.resumed_after_epoch = run.completed_epochs();
  start.summary = "training " + config.backbone.arch + " (preset " +
                  (config.preset.empty() ? std::string("custom") : config.preset) + ") on " +
                  count(data.train->size(), data.dims == 3 ? "volume" : "image",
                        data.dims == 3 ? "volumes" : "images") +
                  " (" + std::to_string(validates ? data.validation->size() : 0) +
                  " for validation)" + (data.source.empty() ? "" : " " + data.source) + ", " +
                  count(static_cast<size_t>(classes), "class", "classes") +
                  ", batch size 1 at full resolution, " +
                  count(static_cast<size_t>(torch::get_num_threads()), "thread", "threads") +
                  (memory_note.empty() ? "" : "; " + memory_note) +
                  anisotropy_note(config.backbone.stem_strides, data.spacing);
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
    RunFolder(request.run.run_dir).require_checkpoint_to_resume();
    // Read as the run was: its normalization, slice axis and mask values.
    resumed = read_segmentation_run(request.run.run_dir);
    options.stats = resumed->stats;
    options.dims = static_cast<int>(resumed->model.backbone.dims);
    if (resumed->slice_axis >= 0) options.slice_axis = resumed->slice_axis;
    if (resumed->masks) {
      options.reading = DatasetOptions::FixedReading{*resumed->masks, resumed->classes};
    }
  } else {
    request.model.resolve(3, 2);  // a bad preset fails before data is read
  }
  const auto dataset = open_segmentation_dataset(data_path, options);
  if (dataset->size() == 0) throw std::runtime_error(data_path + ": no labelled images found");
  if (note) {
    const auto masks = dataset->describe_masks();  // a table over every mask's values
    if (!masks.empty()) note(masks, false);
  }
  auto split = dataset->split();
  if (dataset->dims() == 3 && split.val.empty() && options.val_fraction > 0) {
    // One volume: none to hold out. Scoring it shows the fit, not generalization.
    split.val = split.train;
    if (note) {
      note(
          "one volume: validation scores the training volume (its fit, not how the model "
          "generalizes); add volumes to hold one out, or --val-fraction 0 to skip it",
          true);
    }
  }
  const auto warning = one_class_validation_warning(*dataset, split.val);
  if (note && !warning.empty()) note(warning, true);
  const SubsetDataset train(*dataset, split.train), val(*dataset, split.val);

  SegmentationTrainingData data;
  data.train = &train;
  data.validation = &val;
  data.classes = dataset->classes();
  data.stats = dataset->stats();
  data.dims = dataset->dims();
  if (data.dims == 3) {
    if (const auto voxels = dataset->image(0).voxels) {
      // ITK's (x, y, z) to the tensor's (D, H, W) = (z, y, x).
      data.spacing = {voxels->spacing[2], voxels->spacing[1], voxels->spacing[0]};
    }
    const auto warning = spacing_mismatch_warning(*dataset);
    if (note && !warning.empty()) note(warning, true);
  }
  data.expected_classes = present_classes(*dataset);
  data.description = {{"path", fs::absolute(data_path).string()},
                      {"layout", dataset->layout()},
                      {"images", dataset->size()},
                      {"train", train.size()},
                      {"val", val.size()},
                      {"dims", dataset->dims()},
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
