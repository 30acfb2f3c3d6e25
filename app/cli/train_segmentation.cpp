// revup-cli train: a RevUp segmentation network at batch size 1 on whole,
// full-resolution images; validation every epoch; a run folder that resumes.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/console_observer.h"
#include "app/cli/segmentation_run.h"
#include "core/augmentation.h"
#include "core/training_run.h"
#include "io/segmentation_dataset.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_presets.h"
#include "models/state_utils.h"

namespace revup::cli {
namespace {

struct TrainOptions {
  std::string data, out, preset = "cpu", device = "cpu";
  int epochs = 20;
  int64_t steps_per_epoch = 0;
  double lr = 0.02, weight_decay = 1e-4, dice = 0.0, clip_grad = 0.0;
  double val_fraction = 0.2;
  int axis = -1;
  bool augment = true, resume = false, injective_stem = false;
  std::vector<double> scale_range = {1.0, 1.0};
  uint64_t seed = 0;
  std::string json;
  std::string mask_values = "auto", ignore_value, classes;
};

// --mask-values, --ignore-value and --classes as dataset options.
void read_mask_options(const TrainOptions& o, DatasetOptions& d) {
  d.mask_values.convention = parse_mask_values(o.mask_values);
  if (o.ignore_value == "none") {
    d.mask_values.ignore_nothing = true;
  } else if (!o.ignore_value.empty()) {
    try {
      size_t used = 0;
      d.mask_values.ignore_value = std::stoll(o.ignore_value, &used);
      if (used != o.ignore_value.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw std::runtime_error("--ignore-value " + o.ignore_value + ": expected a number or none");
    }
  }
  if (!o.classes.empty()) d.classes = read_class_table_file(o.classes);
}

namespace fs = std::filesystem;

// A new run that fails (bad data found mid-epoch, a full disk, Ctrl-C) before
// its first checkpoint leaves nothing a user could resume: remove the files it
// wrote, and its folder if it made it, so no half-made run is left behind.
class NewRunGuard {
 public:
  NewRunGuard(std::string dir, bool resume)
      : dir_(std::move(dir)), active_(!resume), made_folder_(!fs::exists(dir_)) {}
  ~NewRunGuard() {
    if (!active_ || fs::exists(fs::path(dir_) / "last.pt")) return;
    std::error_code ec;
    for (const char* f : {"config.json", "metrics.csv", "memory_timeline.json"}) {
      fs::remove(fs::path(dir_) / f, ec);
    }
    if (made_folder_ && fs::is_empty(dir_, ec)) fs::remove(dir_, ec);
  }
  void keep() { active_ = false; }

 private:
  std::string dir_;
  bool active_, made_folder_;
};

void run_train(const TrainOptions& o) {
  ignore_file_size_signal();
  const auto device = select_device(o.device);
  check_output_folder(o.out, /*may_create=*/true);
  if (!o.json.empty()) check_output_folder(o.json);
  DatasetOptions data_options;
  data_options.slice_axis = o.axis;
  data_options.val_fraction = o.val_fraction;
  data_options.seed = o.seed;
  read_mask_options(o, data_options);
  SegmentationConfig config;
  if (!o.resume) segmentation_preset(o.preset, 3, 2);  // a bad name fails before data is read
  if (o.resume) {
    // The run's own description wins: same model, same normalization.
    const auto run = read_segmentation_run(o.out);
    config = run.model;
    data_options.stats = run.stats;
    if (run.slice_axis >= 0) data_options.slice_axis = run.slice_axis;
    // Its masks read as before: the same values mean the same classes.
    if (run.masks) data_options.reading = DatasetOptions::FixedReading{*run.masks, run.classes};
  }
  const auto data = open_segmentation_dataset(o.data, data_options);
  if (data->size() == 0) throw std::runtime_error(o.data + ": no labelled images found");
  std::printf("%s", data->describe_masks().c_str());
  const auto split = data->split();
  const auto warning = one_class_validation_warning(*data, split.val);
  if (!warning.empty()) std::fprintf(stderr, "\nWARNING: %s\n\n", warning.c_str());
  const SubsetDataset train(*data, split.train), val(*data, split.val);
  const auto& classes = data->classes();
  // Stats exist per channel (computed over the training images at open).
  const auto channels = static_cast<int64_t>(data->stats().mean.size());
  if (!o.resume) {
    config = segmentation_preset(o.preset, channels, classes.size());
    if (o.injective_stem) use_injective_stem(config);
  }
  if (config.backbone.in_channels != channels || config.num_classes != classes.size()) {
    throw std::runtime_error(o.out + ": the run's model takes " +
                             std::to_string(config.backbone.in_channels) + " channels and " +
                             std::to_string(config.num_classes) + " classes; " + o.data + " has " +
                             std::to_string(channels) + " and " + std::to_string(classes.size()));
  }

  torch::manual_seed(o.seed);
  SegmentationNet net(config);
  net->to(device);

  TrainingRunOptions run_options;
  run_options.dir = o.out;
  run_options.resume = o.resume;
  auto& t = run_options.trainer;
  t.epochs = o.epochs;
  t.batch_size = 1;  // whole images, at full resolution
  t.lr = o.lr;
  t.weight_decay = o.weight_decay;
  t.schedule = LrSchedule::kCosine;
  t.clip_grad_norm = o.clip_grad;
  t.seed = o.seed;
  t.steps_per_epoch = o.steps_per_epoch;
  t.record_memory = true;
  t.device = device;
  nlohmann::json data_json = {{"path", fs::absolute(o.data).string()},
                              {"layout", data->layout()},
                              {"images", data->size()},
                              {"train", train.size()},
                              {"val", val.size()},
                              {"slice_axis", data->options().slice_axis},
                              {"val_fraction", o.val_fraction}};
  run_options.description =
      segmentation_description(config.to_json(), classes, data->stats(), data_json);
  run_options.description["masks"] = data->mask_reading();
  run_options.description["masks_found"] =
      mask_values_json(data->mask_values(all_indices(data->size())));
  run_options.best_metric = val.size() > 0 ? "miou" : "";

  NewRunGuard guard(o.out, o.resume);
  TrainingRun run(trainable(net), segmentation_loss_function({classes.ignore_index, o.dice}),
                  run_options);
  std::vector<std::string> class_names;
  for (const auto& c : classes.classes) class_names.push_back(c.name);
  if (val.size() > 0) {
    const auto logits = logits_function(net, device);
    const auto expected = present_classes(*data);  // in any split
    run.set_evaluation([&, logits, expected] {
      auto cm = evaluate_segmentation(logits, val, classes.size(), classes.ignore_index);
      cm.expect_classes(expected);
      return cm.metrics(class_names);
    });
  }
  ConsoleTrainObserver console(o.epochs, {"miou", "pixel_accuracy"});
  run.add_observer(&console);

  AugmentationOptions augment;
  augment.flips = augment.rotations = o.augment;
  augment.intensity_jitter = o.augment ? 0.1 : 0.0;
  augment.min_scale = o.scale_range[0];
  augment.max_scale = o.scale_range[1];
  augment.ignore_index = classes.ignore_index;
  const AugmentedDataset augmented(train, augment);

  std::printf(
      "training %s (preset %s) on %zu images (%zu for validation) from %s, %s layout, "
      "%lld classes, batch size 1 at full resolution, %d threads\n",
      config.backbone.arch.c_str(), config.preset.empty() ? "custom" : config.preset.c_str(),
      train.size(), val.size(), o.data.c_str(), data->layout().c_str(),
      static_cast<long long>(classes.size()), torch::get_num_threads());
  if (o.resume) std::printf("resuming %s after epoch %d\n", o.out.c_str(), run.completed_epochs());
  const bool finished = run.fit(augmented);
  if (!finished) {
    if (fs::exists(run.path("last.pt"))) {
      std::cout << "\nstopped: " << run.path("last.pt") << " holds epoch " << run.completed_epochs()
                << "; continue with --resume\n";
    } else {
      std::cout << "\nstopped before the first epoch finished: nothing saved\n";
    }
    throw std::runtime_error("interrupted");
  }
  guard.keep();
  if (!o.json.empty()) {
    nlohmann::json summary = {{"run", o.out}, {"epochs", run.completed_epochs()}};
    for (const auto& [k, v] : run.last_metrics()) summary["metrics"][k] = v;
    if (val.size() > 0) summary["best_miou"] = run.best_score();
    write_json(o.json, summary);
  }
  std::cout << "done: " << o.out
            << " (config.json, metrics.csv, last.pt, best.pt, memory_timeline.json)\n";
}

}  // namespace

void add_train_segmentation_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train", "Train a RevUp segmentation model on whole, full-resolution images");
  auto o = std::make_shared<TrainOptions>();
  cmd->add_option("--data", o->data,
                  "Dataset: images/+masks/ folder, VOC/labelme export, or a JSON manifest")
      ->required();
  cmd->add_option("--out", o->out, "Run folder to create (or continue with --resume)")->required();
  std::string presets;
  for (const auto& p : segmentation_presets()) presets += "\n  " + p.name + ": " + p.description;
  cmd->add_option("--preset", o->preset, "Model size:" + presets)->capture_default_str();
  cmd->add_flag("--injective-stem", o->injective_stem,
                "Zero-pad the channels instead of the stem's conv, so that `bench invert` and the "
                "GUI can rebuild the input image (first stage at full resolution: slower)");
  cmd->add_option("--epochs", o->epochs, "Epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--steps-per-epoch", o->steps_per_epoch, "Images per epoch (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr", o->lr, "Learning rate (Fixup scalars get lr/10; cosine schedule)")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--dice", o->dice, "Weight of the soft Dice loss added to cross-entropy")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--clip-grad", o->clip_grad, "Clip the gradient norm to this (0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--val-fraction", o->val_fraction, "Share of images held out for validation")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd->add_option("--axis", o->axis, "Volumes: slice axis 0, 1 or 2 (default: the manifest's)")
      ->check(CLI::Range(-1, 2));
  cmd->add_flag("!--no-augment", o->augment, "Turn off flips, 90-degree turns and jitter");
  cmd->add_option("--scale-range", o->scale_range, "Random rescale range, e.g. 0.75 1.25")
      ->expected(2);
  cmd->add_option("--mask-values", o->mask_values,
                  "How mask values become classes: auto (reported before training), binary "
                  "(two classes split at the midpoint), index (values are class ids), voc (ids, "
                  "255 ignored)")
      ->check(CLI::IsMember({"auto", "binary", "index", "voc"}))
      ->capture_default_str();
  cmd->add_option("--ignore-value", o->ignore_value,
                  "A mask value that marks pixels to ignore, or 'none' to ignore nothing (not "
                  "even VOC's 255 or a class table's ignore value)");
  cmd->add_option("--classes", o->classes,
                  "Class table: classes.json, or a text file with one class name a line; mask "
                  "values are then class ids (colour masks: the classes' colours)");
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its last.pt");
  cmd->add_option("--json", o->json, "Write the final metrics here");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace revup::cli
