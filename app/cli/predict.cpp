// revup-cli predict: a trained segmentation model on one image or volume, at
// full resolution (or in blended tiles when asked), written in the format the
// output's extension names, with the input's georeferencing or voxel geometry.
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"
#include "workflows/segmentation_prediction.h"

namespace revup::cli {
namespace {

struct PredictOptions {
  std::string model, input, output, overlay, checkpoint = "best", device = "cpu";
  int64_t tile = 0, overlap = 64;
};

void run_predict(const PredictOptions& o) {
  ignore_file_size_signal();
  const auto device = select_device(o.device);
  // The outputs first: an unknown extension or a missing folder costs no prediction.
  check_output_folder(o.output);
  const auto& out_format = default_registry().format_for(o.output);
  if (!out_format.write_mask) {
    throw std::runtime_error(o.output + ": format '" + out_format.name + "' cannot write masks");
  }
  if (!o.overlay.empty()) {
    check_output_folder(o.overlay);
    if (!default_registry().format_for(o.overlay).write) {
      throw std::runtime_error(o.overlay + ": this format cannot write an overlay (use .png)");
    }
  }
  auto predictor = open_predictor(o.model, o.checkpoint, device);
  predictor.tiles = {o.tile, o.overlap};
  const auto image = read_image(o.input);
  for (const auto& w : image.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!o.overlay.empty() && image.is_volume()) {
    throw std::runtime_error("--overlay is for 2D images; " + o.input + " is a volume");
  }
  if (predictor.dims == 3 && image.is_volume() && o.tile > 0 && predictor.trained_window.empty()) {
    std::fprintf(stderr,
                 "warning: %s trained on whole volumes; windows of %lld^3 voxels show it less "
                 "than it learnt from (the anatomy at other places relative to the borders), so "
                 "expect a less accurate prediction. A model trained with --window predicts in "
                 "windows as it learnt.\n",
                 o.model.c_str(), static_cast<long long>(o.tile));
  }
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ProgressBar> bar;
  const auto mask = predict_segmentation(predictor, image, [&](int64_t done, int64_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>("predict", total);
    bar->update(done);
    return true;
  });
  if (bar) bar->finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_prediction(mask, predictor, image, o.output);
  const auto& classes = predictor.classes;

  const std::string how =
      !image.is_volume() ? "mask"
      : predictor.dims == 3
          ? "label volume, 3D model" +
                (o.tile > 0 ? ", sliding window of " + std::to_string(o.tile) +
                                  "^3 voxels blended over " + std::to_string(o.overlap)
                            : std::string(", whole volume"))
          : "label volume, slice by slice";
  std::printf("wrote %s (%s, %lld classes) in %s%s\n", o.output.c_str(), how.c_str(),
              static_cast<long long>(classes.size()), format_duration(seconds).c_str(),
              image.geo ? ", georeferenced like the input"
                        : (image.voxels ? ", voxel geometry of the input" : ""));
  const auto counts =
      torch::bincount(mask.reshape(-1).clamp(0, classes.size()), {}, classes.size() + 1);
  const double total = static_cast<double>(mask.numel());
  for (int64_t c = 0; c < classes.size(); ++c) {
    const auto share = counts[c].item<double>() / total;
    if (share > 0) std::printf("  %-20s %6.2f %%\n", classes.classes[c].name.c_str(), 100 * share);
  }
  if (!o.overlay.empty()) {
    Image picture;
    picture.pixels = overlay(image.pixels, mask, classes, 0.45);
    picture.path = o.overlay;
    write_image(picture, o.overlay);
    std::printf("wrote %s (prediction over the image)\n", o.overlay.c_str());
  }
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Segment an image or volume with a trained model");
  auto o = std::make_shared<PredictOptions>();
  cmd->add_option("--model", o->model, "Run folder written by train")->required();
  cmd->add_option("--input", o->input, "Image, raster or volume (any format io or a plugin reads)")
      ->required();
  cmd->add_option("--output", o->output, "Mask to write; the format follows the extension")
      ->required();
  cmd->add_option("--overlay", o->overlay, "Also write the prediction over the image (PNG)");
  cmd->add_option("--checkpoint", o->checkpoint, "best or last")->capture_default_str();
  cmd->add_option(
         "--tile", o->tile,
         "Predict in overlapping tiles of this size (for images beyond memory; a 3D "
         "model's volume in cubes: a sliding window; 0: the whole image or volume at once)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--overlap", o->overlap, "Tile overlap in pixels, blended")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace revup::cli
