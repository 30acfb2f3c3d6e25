// revup-cli predict: a trained segmentation model on one image or volume, at
// full resolution (or in blended tiles when asked), written in the format the
// output's extension names, with the input's georeferencing or voxel geometry.
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "app/cli/segmentation_run.h"
#include "io/format_registry.h"
#include "io/mask_colors.h"

namespace revup::cli {
namespace {

struct PredictOptions {
  std::string model, input, output, overlay, checkpoint = "best", device = "cpu";
  int64_t tile = 0, overlap = 64;
};

// Class ids for one normalized 2D image [C, H, W].
torch::Tensor predict_mask(const LogitsFunction& logits, const torch::Tensor& x,
                           const TileOptions& tiles) {
  return predict_logits(logits, x, tiles).argmax(0);
}

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
  const auto run = read_segmentation_run(o.model);
  const auto image = read_image(o.input);
  for (const auto& w : image.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!o.overlay.empty() && image.is_volume()) {
    throw std::runtime_error("--overlay is for 2D images; " + o.input + " is a volume");
  }
  if (image.channels() != static_cast<int64_t>(run.stats.mean.size())) {
    throw std::runtime_error(o.input + ": has " + std::to_string(image.channels()) +
                             " channels; the model in " + o.model + " takes " +
                             std::to_string(run.stats.mean.size()));
  }
  auto net = load_segmentation_net(run, o.checkpoint, device);
  const auto logits = logits_function(net, device);
  const TileOptions tiles{o.tile, o.overlap};
  const auto start = std::chrono::steady_clock::now();
  const auto x = normalize(image, run.stats);
  torch::Tensor mask;
  if (image.is_volume()) {
    // Slice-wise along the axis the model was trained on; x is [C, D, H, W].
    const int axis = run.slice_axis >= 0 ? run.slice_axis : 0;
    ProgressBar bar("predict", x.size(axis + 1));
    mask = predict_volume_slices(
        x, axis, [&](const torch::Tensor& plane) { return predict_mask(logits, plane, tiles); },
        [&](int64_t done, int64_t) {
          bar.update(done);
          return true;
        });
    bar.finish();
  } else {
    mask = predict_mask(logits, x, tiles);
  }
  // Nodata and NaN pixels carry no prediction.
  mask.masked_fill_(valid_pixels(image).logical_not(), run.classes.ignore_index);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // In the values of the masks it learnt from: a model trained on 0/255
  // masks writes 0/255, on colour masks their colours.
  if (run.masks && run.masks->colour) {
    Image coloured = image;
    coloured.pixels = colorize(mask, run.classes);
    write_image(coloured, o.output);
  } else {
    write_mask(run.masks ? run.masks->to_values(mask) : mask, run.classes, image, o.output);
  }

  std::printf("wrote %s (%s, %lld classes) in %s%s\n", o.output.c_str(),
              image.is_volume() ? "label volume" : "mask",
              static_cast<long long>(run.classes.size()), format_duration(seconds).c_str(),
              image.geo ? ", georeferenced like the input"
                        : (image.voxels ? ", voxel geometry of the input" : ""));
  const auto counts =
      torch::bincount(mask.reshape(-1).clamp(0, run.classes.size()), {}, run.classes.size() + 1);
  const double total = static_cast<double>(mask.numel());
  for (int64_t c = 0; c < run.classes.size(); ++c) {
    const auto share = counts[c].item<double>() / total;
    if (share > 0)
      std::printf("  %-20s %6.2f %%\n", run.classes.classes[c].name.c_str(), 100 * share);
  }
  if (!o.overlay.empty()) {
    Image picture;
    picture.pixels = overlay(image.pixels, mask, run.classes, 0.45);
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
  cmd->add_option("--tile", o->tile,
                  "Predict in overlapping tiles of this size (for images beyond memory; "
                  "0: the whole image at once)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--overlap", o->overlap, "Tile overlap in pixels, blended")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([o] { run_predict(*o); });
}

}  // namespace revup::cli
