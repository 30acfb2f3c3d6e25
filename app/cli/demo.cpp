// revup-cli demo: the product's main job on built-in data. A deterministic 4K
// scene with ground truth is generated (no download), a RevUp segmentation
// model trains on it at full resolution for a few minutes, and the demo shows
// what changed: mIoU before and after on a second, unseen scene, the measured
// peak memory next to ResNet+Fixup's for the same image, a prediction overlay
// and the memory-per-block plot.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "app/cli/bench_common.h"
#include "app/cli/commands.h"
#include "app/cli/console_training.h"
#include "io/channel_stats.h"
#include "io/demo_scene.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "workflows/segmentation_run.h"
#include "workflows/segmentation_training.h"

namespace revup::cli {
namespace {
namespace fs = std::filesystem;

struct DemoOptions {
  std::string out = "runs/demo", preset = "cpu", device = "cpu";
  int64_t width = 3840, height = 2160;
  // A fixed number of steps, so the result is the same on every machine
  // (the README's figure is what a newcomer sees); --minutes instead trains
  // for a time budget.
  int steps = 80;
  double minutes = 0.0, lr = 0.05;
  bool baseline = true;
  uint64_t seed = 1;
};

Image as_image(torch::Tensor pixels, const std::string& path) {
  Image image;
  image.pixels = std::move(pixels);
  image.path = path;
  return image;
}

double miou(SegmentationNet& net, const c10::Device& device, const Dataset& data,
            const ClassTable& classes) {
  net->eval();
  const auto cm = evaluate_segmentation(logits_function(net, device), data, classes.size(),
                                        classes.ignore_index);
  return cm.mean_iou();
}

void run_demo(const DemoOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto device = select_device(o.device);
  const auto t0 = clock::now();
  std::printf("RevUp Studio demo: a %lldx%lld scene with ground truth (generated, seed %llu)\n",
              static_cast<long long>(o.width), static_cast<long long>(o.height),
              static_cast<unsigned long long>(o.seed));
  const auto train_scene = make_demo_scene(o.height, o.width, o.seed);
  const auto val_scene = make_demo_scene(o.height, o.width, o.seed + 1);
  const auto classes = demo_scene_classes(train_scene);
  const auto stats = demo_scene_stats(train_scene);
  const Example train_example = demo_scene_example(train_scene, stats);
  const SingleExample train(train_example);
  const SingleExample val(demo_scene_example(val_scene, stats));

  SegmentationModelChoice model;
  model.preset = o.preset;
  const auto config = model.resolve(3, classes.size());
  torch::manual_seed(o.seed);
  SegmentationNet net(config);
  net->to(device);
  const double miou_before = miou(net, device, val, classes);
  std::printf("untrained model (preset %s): mIoU %.2f %% on an unseen scene\n", o.preset.c_str(),
              100 * miou_before);

  // Memory of one full-resolution training step, RevUp with MemSave against
  // ResNet+Fixup built from the same preset (same widths, depth, decoder).
  std::printf("measuring a training step of each model on the full image ...\n");
  const auto revup =
      measure_segmentation_step(config, "revup-memsave", train_example.input.unsqueeze(0),
                                train_example.target.unsqueeze(0), device);
  StepMeasurement fixup;
  if (o.baseline)
    fixup = measure_segmentation_step(config, "resnet-fixup", train_example.input.unsqueeze(0),
                                      train_example.target.unsqueeze(0), device);
  // Peaks include both scenes and their normalized copies, already loaded;
  // the step's own memory is what it adds on top.
  const auto report_step = [](const char* name, const StepMeasurement& m) {
    std::printf(
        "  %-16s whole step %s (forward+backward above the step's start: %s), %.1f s/step\n", name,
        format_bytes(static_cast<double>(m.whole_step_own_bytes())).c_str(),
        format_bytes(static_cast<double>(m.activation_peak_bytes)).c_str(), m.seconds);
  };
  report_step("RevUp (MemSave)", revup);
  if (o.baseline) report_step("ResNet+Fixup", fixup);

  int steps = o.steps;
  if (o.minutes > 0) {
    steps =
        static_cast<int>(std::clamp(o.minutes * 60.0 / std::max(revup.seconds, 1e-3), 3.0, 2000.0));
  }
  fs::remove_all(o.out);  // the demo always starts over
  SegmentationTrainingRequest request;
  request.run.run_dir = o.out;
  request.model.preset = o.preset;
  request.run.epochs = steps;  // one image: one step per epoch
  request.run.lr = o.lr;
  request.run.seed = o.seed;
  request.run.device = o.device;
  SegmentationTrainingData data;
  data.train = &train;  // scored before and after, not every step: no validation
  data.classes = classes;
  data.stats = stats;
  data.description = {{"path", "built-in demo scene"},
                      {"width", o.width},
                      {"height", o.height},
                      {"seed", o.seed},
                      {"train", 1},
                      {"val", 1}};
  ConsoleTraining console(steps, {}, /*print_start=*/false);
  std::printf(
      "training for %d steps at full resolution, batch size 1: about %s at the %.1f s/step just "
      "measured (Ctrl-C stops)\n",
      steps, format_duration(steps * revup.seconds).c_str(), revup.seconds);
  const auto train_start = clock::now();
  const auto trained = train_segmentation(request, data, console);
  const double train_seconds = std::chrono::duration<double>(clock::now() - train_start).count();
  if (!trained.finished) std::printf("stopped early after %d steps\n", trained.completed_epochs);
  std::printf("trained %d steps in %s (%.1f s/step)\n", trained.completed_epochs,
              format_duration(train_seconds).c_str(),
              train_seconds / std::max(trained.completed_epochs, 1));
  net = trained.net;

  const double miou_after = miou(net, device, val, classes);
  std::printf("trained model: mIoU %.2f %% on the unseen scene (was %.2f %%)\n", 100 * miou_after,
              100 * miou_before);

  // What to look at.
  const auto overlay_path = (fs::path(o.out) / "prediction_overlay.png").string();
  const auto truth_path = (fs::path(o.out) / "ground_truth_overlay.png").string();
  const auto plot_path = (fs::path(o.out) / "memory_per_block.png").string();
  const auto logits = predict_logits(logits_function(net, device), val.get(0).input);
  const auto predicted = logits.argmax(0);
  write_image(as_image(overlay(val_scene.image, predicted, classes, 0.45), overlay_path),
              overlay_path);
  write_image(as_image(overlay(val_scene.image, val_scene.mask, classes, 0.45), truth_path),
              truth_path);
  PlotSpec spec{"Memory after each block, one training step on " + std::to_string(o.width) + "x" +
                    std::to_string(o.height),
                "block boundary (forward, then backward)",
                "allocated MiB above the step's start",
                {timeline_series("RevUp (MemSave)", revup)}};
  if (o.baseline) spec.series.push_back(timeline_series("ResNet+Fixup", fixup));
  const bool plotted = write_plot(spec, plot_path);

  nlohmann::json summary = {
      {"image", {o.width, o.height}},
      {"preset", o.preset},
      {"steps", trained.completed_epochs},
      {"miou_before", miou_before},
      {"miou_after", miou_after},
      {"revup_whole_step_bytes", revup.whole_step_own_bytes()},
      {"revup_peak_bytes", revup.peak_bytes},
      {"revup_step_bytes", revup.activation_peak_bytes},
      {"revup_step_seconds", revup.seconds},
      {"train_seconds", train_seconds},
      {"seconds", std::chrono::duration<double>(clock::now() - t0).count()},
      {"keys",
       {{"miou_before", "mIoU of the untrained model on a second, unseen scene"},
        {"miou_after", "the same after training"},
        {"revup_whole_step_bytes",
         "one whole training step's own memory (exact allocator bytes, not RSS): weights, "
         "gradients and momentum, plus the peak that forward, backward and the optimizer's step "
         "add on top"},
        {"revup_peak_bytes",
         "allocator peak of the same step's forward and backward, including the loaded scenes"},
        {"revup_step_bytes", "what forward and backward add to the memory live before them"},
        {"train_seconds", "wall time of the training steps alone"}}}};
  if (o.baseline) {
    summary["resnet_fixup_whole_step_bytes"] = fixup.whole_step_own_bytes();
    summary["resnet_fixup_peak_bytes"] = fixup.peak_bytes;
    summary["resnet_fixup_step_bytes"] = fixup.activation_peak_bytes;
    summary["revup_over_resnet_fixup_step"] = static_cast<double>(revup.activation_peak_bytes) /
                                              static_cast<double>(fixup.activation_peak_bytes);
    summary["revup_over_resnet_fixup"] = static_cast<double>(revup.whole_step_own_bytes()) /
                                         static_cast<double>(fixup.whole_step_own_bytes());
  }
  write_json((fs::path(o.out) / "demo.json").string(), summary);

  std::printf("\nsummary\n  mIoU            %.2f %% -> %.2f %%\n", 100 * miou_before,
              100 * miou_after);
  std::printf("  whole step      RevUp %s",
              format_bytes(static_cast<double>(revup.whole_step_own_bytes())).c_str());
  if (o.baseline) {
    std::printf(" vs ResNet+Fixup %s (%.2fx); forward+backward alone %s vs %s (%.2fx)",
                format_bytes(static_cast<double>(fixup.whole_step_own_bytes())).c_str(),
                summary["revup_over_resnet_fixup"].get<double>(),
                format_bytes(static_cast<double>(revup.activation_peak_bytes)).c_str(),
                format_bytes(static_cast<double>(fixup.activation_peak_bytes)).c_str(),
                summary["revup_over_resnet_fixup_step"].get<double>());
  }
  std::printf("\n  prediction      %s\n  ground truth    %s\n", overlay_path.c_str(),
              truth_path.c_str());
  if (plotted) std::printf("  memory plot     %s\n", plot_path.c_str());
  std::printf("  run folder      %s (config.json, metrics.csv, last.pt, memory_timeline.json)\n",
              o.out.c_str());
  std::printf("  try             revup-cli predict --model %s --input YOUR.png --output mask.png\n",
              o.out.c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo", "Train on a built-in 4K scene at full resolution and show memory and mIoU");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--out", o->out, "Run folder (replaced)")->capture_default_str();
  cmd->add_option("--preset", o->preset, "Model preset")->capture_default_str();
  cmd->add_option("--steps", o->steps,
                  "Training steps (fixed, so the result does not depend on the machine's speed)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--minutes", o->minutes,
                  "Train for this time budget instead of --steps (the result then depends on "
                  "the machine's speed)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr", o->lr, "Learning rate")->capture_default_str();
  cmd->add_option("--width", o->width, "Scene width")
      ->check(CLI::Range(64, 20000))
      ->capture_default_str();
  cmd->add_option("--height", o->height, "Scene height")
      ->check(CLI::Range(64, 20000))
      ->capture_default_str();
  cmd->add_flag("!--no-baseline", o->baseline, "Skip measuring ResNet+Fixup");
  cmd->add_option("--seed", o->seed, "Scene and model seed")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace revup::cli
