#pragma once
// A network described by a small JSON config, so a model can be rebuilt (and
// exported) from its own description.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/fixed_point.h"
#include "core/spectral_norm.h"

namespace revup {

// The five architectures compared throughout the paper.
inline const std::vector<std::string>& architecture_names() {
  static const std::vector<std::string> names = {"resnet", "resnet-fixup", "resnet-fixup-ckpt",
                                                 "revup", "revup-memsave"};
  return names;
}

struct ModelConfig {
  std::string arch = "revup-memsave";
  int depth = 20;
  std::string style = "auto";  // "cifar" (6n+2, 3 stages) or "imagenet" (18/34/50/101)
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  std::vector<int64_t> widths;  // per stage; empty = the paper's (16/32/64 or 64..512)
  // A custom backbone (segmentation presets): blocks per stage instead of a
  // named depth, and the block type. Empty / "auto" = from `depth`.
  std::vector<int> blocks;
  std::string block = "auto";  // "basic", "bottleneck" or "auto"
  int64_t stem_width = 0;      // 0: widths[0] (CIFAR) or 64 (ImageNet)
  // "auto" (the style's stem) or "patch": a 4x4 stride-4 convolution, the
  // ImageNet stem's stride at a tenth of its cost (at 4K that conv dominates a
  // small model's step).
  std::string stem = "auto";
  // The patch stem's stride (= its kernel) per spatial axis, in tensor order
  // (D, H, W for volumes), each 1, 2 or 4; empty: 4 on every axis. A volume
  // of thick slices keeps its resolution along them (stride 1 or 2) while the
  // finely sampled axes are reduced by 4 (anisotropic_patch_strides).
  std::vector<int64_t> stem_strides;
  // Spatial axes: 2 (images, Conv2d) or 3 (whole volumes, Conv3d; Fixup and
  // RevUp architectures: the BatchNorm ResNet is 2D only).
  int64_t dims = 2;
  bool classifier = true;       // global pooling + linear head (off for a backbone)
  bool injective_stem = false;  // paper 3.1: zero-pad 3 -> width instead of the first conv
  SpectralNormOptions sn;
  FixedPointOptions inverse;

  // Resolved views (throw std::invalid_argument on a bad config).
  std::string resolved_style() const;
  std::vector<int> blocks_per_stage() const;
  bool bottleneck() const;
  std::vector<int64_t> resolved_widths() const;  // output channels per stage
  int64_t resolved_stem_width() const;
  bool is_revup() const { return arch.rfind("revup", 0) == 0; }

  void validate() const;
  nlohmann::json to_json() const;
  static ModelConfig from_json(const nlohmann::json& j);
};

}  // namespace revup
