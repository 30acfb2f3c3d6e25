// revup-cli train: a RevUp segmentation network at batch size 1 on whole,
// full-resolution images; validation every epoch; a run folder that resumes.
#include <torch/torch.h>

#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/console_training.h"
#include "app/cli/rank_output.h"
#include "io/segmentation_dataset.h"
#include "models/segmentation_presets.h"
#include "workflows/segmentation_training.h"

namespace revup::cli {
namespace {

// The workflow's request, filled in by the options, and how to read the data.
struct TrainOptions {
  SegmentationTrainingRequest request;
  std::string data;
  double val_fraction = 0.2;
  int axis = -1;
  int dims = 0;
  std::vector<double> scale_range = {1.0, 1.0};
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

void run_train(const TrainOptions& o) {
  ignore_file_size_signal();
  const auto& run = o.request.run;
  select_device(run.device);  // no such device: said before the data is read
  check_output_folder(run.run_dir, /*may_create=*/true);
  if (!o.json.empty()) check_output_folder(o.json);
  send_rank_output_to_run_folder(run.run_dir);
  DatasetOptions data_options;
  data_options.slice_axis = o.axis;
  data_options.dims = o.dims;
  data_options.val_fraction = o.val_fraction;
  data_options.seed = run.seed;
  read_mask_options(o, data_options);
  auto request = o.request;
  request.min_scale = o.scale_range[0];
  request.max_scale = o.scale_range[1];

  ConsoleTraining console(run.epochs, {"miou", "pixel_accuracy"}, /*print_start=*/true);
  const auto result = train_segmentation(
      request, o.data, data_options, console, [](const std::string& text, bool warning) {
        if (warning) {
          std::fprintf(stderr, "\nWARNING: %s\n\n", text.c_str());
        } else {
          std::printf("%s", text.c_str());
        }
      });
  if (!result.finished) report_stopped(run.run_dir, result.saved, result.completed_epochs);
  if (!o.json.empty()) {
    nlohmann::json summary = {{"run", run.run_dir}, {"epochs", result.completed_epochs}};
    for (const auto& [k, v] : result.last_metrics) summary["metrics"][k] = v;
    if (result.best_miou) summary["best_miou"] = *result.best_miou;
    write_json(o.json, summary);
  }
  std::cout << "done: " << run.run_dir
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
  cmd->add_option("--out", o->request.run.run_dir,
                  "Run folder to create (or continue with --resume)")
      ->required();
  std::string presets;
  for (const auto& p : segmentation_presets()) presets += "\n  " + p.name + ": " + p.description;
  cmd->add_option("--preset", o->request.model.preset, "Model size:" + presets)
      ->capture_default_str();
  cmd->add_flag("--injective-stem", o->request.model.injective_stem,
                "Zero-pad the channels instead of the stem's conv, so that `bench invert` and the "
                "GUI can rebuild the input image (first stage at full resolution: slower)");
  cmd->add_option("--steps-per-epoch", o->request.steps_per_epoch, "Images per epoch (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dice", o->request.dice, "Weight of the soft Dice loss added to cross-entropy")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--val-fraction", o->val_fraction, "Share of images held out for validation")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd->add_option("--dims", o->dims,
                  "Volumes: 3 trains a 3D model on whole volumes, 2 a 2D model slice by slice "
                  "(default: the manifest's \"dims\", else 3)")
      ->check(CLI::IsMember({2, 3}));
  cmd->add_option("--axis", o->axis,
                  "Volumes with --dims 2: slice axis 0, 1 or 2 (default: the manifest's)")
      ->check(CLI::Range(-1, 2));
  cmd->add_option("--window", o->request.window,
                  "Train on random windows of this size instead of whole examples: D H W for "
                  "volumes, H W for images")
      ->expected(2, 3)
      ->check(CLI::PositiveNumber);
  cmd->add_option("--memory-limit", o->request.memory_limit_mib,
                  "3D: refuse a volume whose estimated training step needs more than this many "
                  "MiB (default: the device's memory)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("!--no-augment", o->request.augment, "Turn off flips, 90-degree turns and jitter");
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
  add_training_options(cmd, o->request.run);
  cmd->add_option("--json", o->json, "Write the final metrics here");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace revup::cli
