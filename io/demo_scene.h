#pragma once
// The built-in demo: a deterministic aerial-style scene with its ground truth,
// generated on the fly (no download, nothing committed). Water, vegetation,
// roads and buildings on bare ground, with texture, noise and uneven lighting,
// so a model has to learn colour and context rather than a lookup table.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "io/channel_stats.h"
#include "io/class_table.h"

namespace revup {

struct DemoScene {
  torch::Tensor image;  // [3, H, W] uint8, RGB
  torch::Tensor mask;   // [H, W] int64 class ids
  std::vector<std::string> class_names;
  std::vector<std::array<uint8_t, 3>> class_colors;
};

// The same (height, width, seed) gives the same scene on every machine.
DemoScene make_demo_scene(int64_t height, int64_t width, uint64_t seed);

// The scene's classes with their names and colours.
ClassTable demo_scene_classes(const DemoScene& scene);

// The scene's per-channel mean and spread, and the scene as a training
// example normalized by `stats` (its own, or another scene's for validation).
ChannelStats demo_scene_stats(const DemoScene& scene);
Example demo_scene_example(const DemoScene& scene, const ChannelStats& stats);

// One example held in memory: a whole scene is one training image.
class SingleExample : public Dataset {
 public:
  explicit SingleExample(Example e) : example_(std::move(e)) {}
  size_t size() const override { return 1; }
  Example get(size_t) const override { return example_; }

 private:
  Example example_;
};

}  // namespace revup
