// revup-cli evaluate: mIoU, mean Dice, pixel accuracy and per-class IoU and
// Dice of a trained segmentation model on a labelled dataset, as JSON.
#include <torch/torch.h>

#include <cmath>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "workflows/segmentation_prediction.h"

namespace revup::cli {
namespace {

struct EvaluateOptions {
  std::string model, data, json, checkpoint = "best", device = "cpu", split = "all";
  int64_t tile = 0, overlap = 64;
};

void run_evaluate(const EvaluateOptions& o) {
  ignore_file_size_signal();
  select_device(o.device);  // no such device: said before the data is read
  if (!o.json.empty()) check_output_folder(o.json);
  RunEvaluationRequest request;
  request.run_dir = o.model;
  request.data = o.data;
  request.which = o.checkpoint;
  request.validation_split_only = o.split == "val";
  request.device = o.device;
  request.tiles = {o.tile, o.overlap};
  std::unique_ptr<ProgressBar> bar;
  const auto result = evaluate_run(request, [&](size_t done, size_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>("evaluate", static_cast<int64_t>(total));
    bar->update(static_cast<int64_t>(done));
  });
  if (bar) bar->finish();
  const auto& cm = result.confusion;
  const auto& classes = result.classes;
  for (int64_t c : cm.unscored_classes()) {
    std::printf("  %-20s not in these labels nor predicted: counts as IoU 0\n",
                classes.classes[static_cast<size_t>(c)].name.c_str());
  }

  const auto iou = cm.class_iou();
  const auto dice = cm.class_dice();
  const auto number = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  nlohmann::json per_class = nlohmann::json::array();
  std::printf(
      "mIoU %.2f %%, mean Dice %.2f %%, pixel accuracy %.2f %% over %zu %s (%lld labelled %s)\n",
      100 * cm.mean_iou(), 100 * cm.mean_dice(), 100 * cm.pixel_accuracy(), result.images,
      result.volumes ? "volumes" : "images", static_cast<long long>(cm.labelled_pixels()),
      result.volumes ? "voxels" : "pixels");
  for (size_t c = 0; c < iou.size(); ++c) {
    const auto& name = classes.classes[c].name;
    per_class.push_back({{"class", name}, {"iou", number(iou[c])}, {"dice", number(dice[c])}});
    if (!std::isnan(iou[c])) {
      std::printf("  %-20s IoU %6.2f %%  Dice %6.2f %%\n", name.c_str(), 100 * iou[c],
                  100 * dice[c]);
    }
  }
  if (!o.json.empty()) {
    write_json(
        o.json,
        {{"model", o.model},
         {"checkpoint", result.checkpoint},
         {"data", o.data},
         {"split", o.split},
         {"images", result.images},
         {"labelled_pixels", cm.labelled_pixels()},
         {"miou", cm.mean_iou()},
         {"mean_dice", cm.mean_dice()},
         {"pixel_accuracy", cm.pixel_accuracy()},
         {"per_class", per_class},
         {"keys",
          {{"miou",
            "mean IoU over classes present in labels or predictions; a class the "
            "dataset's masks hold that neither has counts as 0"},
           {"mean_dice", "mean Dice (2 TP / (2 TP + FP + FN)) over the classes miou averages"},
           {"pixel_accuracy", "correct / labelled pixels (ignore value excluded)"},
           {"per_class", "IoU and Dice per class; null when absent from both"}}}});
    std::printf("wrote %s\n", o.json.c_str());
  }
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "evaluate", "mIoU, mean Dice and per-class IoU and Dice of a model on labelled data");
  auto o = std::make_shared<EvaluateOptions>();
  cmd->add_option("--model", o->model, "Run folder written by train")->required();
  cmd->add_option("--data", o->data, "Labelled dataset (the layouts train reads)")->required();
  cmd->add_option("--split", o->split, "all, or val (the run's own validation split)")
      ->check(CLI::IsMember({"all", "val"}))
      ->capture_default_str();
  cmd->add_option("--json", o->json, "Write the metrics here");
  cmd->add_option("--checkpoint", o->checkpoint, "best or last")->capture_default_str();
  cmd->add_option("--tile", o->tile, "Evaluate in overlapping tiles of this size (0: whole)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--overlap", o->overlap, "Tile overlap in pixels")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([o] { run_evaluate(*o); });
}

}  // namespace revup::cli
