#include "models/segmentation_presets.h"

#include <algorithm>
#include <stdexcept>

namespace revup {
namespace {

SegmentationPreset make(std::string name, std::string description, std::vector<int> blocks,
                        std::vector<int64_t> widths, std::string block, int64_t stem_width,
                        int64_t decoder_width, std::string stem = "auto") {
  SegmentationConfig c;
  c.backbone.arch = "revup-memsave";
  c.backbone.style = "imagenet";  // stride-4 stem: the decoder works at 1/4 resolution
  c.backbone.blocks = std::move(blocks);
  c.backbone.widths = std::move(widths);
  c.backbone.block = std::move(block);
  c.backbone.stem_width = stem_width;
  c.backbone.stem = std::move(stem);
  c.backbone.classifier = false;
  c.decoder_width = decoder_width;
  c.preset = name;
  return {std::move(name), std::move(description), std::move(c)};
}

}  // namespace

const std::vector<SegmentationPreset>& segmentation_presets() {
  static const std::vector<SegmentationPreset> presets = {
      make("cpu",
           "laptop CPU: patch stem, basic blocks 8-2-2 at widths 16/32/64 (RevUp-26; a 4K "
           "step in about 3 s on 2 cores)",
           {8, 2, 2}, {16, 32, 64}, "basic", 16, 24, "patch"),
      make("gpu", "workstation GPU: RevUp-26 basic, widths 64..512", {2, 3, 4, 2},
           {64, 128, 256, 512}, "basic", 64, 64),
      make("big-gpu", "big GPU: RevUp-50 bottleneck backbone, widths 256..2048", {3, 4, 6, 3},
           {64, 128, 256, 512}, "bottleneck", 64, 128),
  };
  return presets;
}

SegmentationConfig segmentation_preset(const std::string& name, int64_t in_channels,
                                       int64_t num_classes) {
  std::string known;
  for (const auto& p : segmentation_presets()) {
    if (p.name == name) {
      auto c = p.config;
      c.backbone.in_channels = in_channels;
      c.num_classes = num_classes;
      c.backbone.num_classes = num_classes;
      c.validate();
      return c;
    }
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw std::invalid_argument("unknown preset '" + name + "' (" + known + ")");
}

std::vector<int64_t> anisotropic_patch_strides(const std::vector<double>& spacing) {
  if (spacing.empty()) return {};
  const double finest = *std::min_element(spacing.begin(), spacing.end());
  if (!(finest > 0)) throw std::invalid_argument("voxel spacing must be positive");
  std::vector<int64_t> strides;
  for (const double s : spacing) strides.push_back(s < 1.5 * finest ? 4 : (s < 3 * finest ? 2 : 1));
  const bool all_four =
      std::all_of(strides.begin(), strides.end(), [](int64_t v) { return v == 4; });
  return all_four ? std::vector<int64_t>{} : strides;
}

void use_injective_stem(SegmentationConfig& config) {
  config.backbone.stem = "auto";
  config.backbone.injective_stem = true;
  config.validate();
}

}  // namespace revup
