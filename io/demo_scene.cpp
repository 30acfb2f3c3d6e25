#include "io/demo_scene.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

#include "core/label_ids.h"

namespace revup {
namespace {

enum Class : int64_t { kGround = 0, kWater, kVegetation, kRoad, kBuilding, kClassCount };

// Smooth noise in about [-1, 1]: random values on a coarse grid, bilinearly
// upsampled, summed over octaves.
torch::Tensor smooth_noise(int64_t h, int64_t w, double cell, int octaves, at::Generator& gen) {
  namespace F = torch::nn::functional;
  auto total = torch::zeros({h, w});
  double amplitude = 1.0, norm = 0.0;
  for (int o = 0; o < octaves; ++o) {
    const int64_t gh = std::max<int64_t>(2, static_cast<int64_t>(h / cell) + 2);
    const int64_t gw = std::max<int64_t>(2, static_cast<int64_t>(w / cell) + 2);
    const auto grid = torch::randn({1, 1, gh, gw}, gen);
    const auto up = F::interpolate(grid, F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{h, w})
                                             .mode(torch::kBicubic)
                                             .align_corners(false));
    total.add_(up[0][0], amplitude);
    norm += amplitude;
    amplitude *= 0.5;
    cell /= 2;
  }
  return total / norm;
}

double uniform(at::Generator& gen, double lo, double hi) {
  return lo + (hi - lo) * torch::rand({1}, gen).item<double>();
}

// Pixels within `half_width` of the polyline through `points` (x, y pairs).
torch::Tensor near_polyline(const std::vector<std::pair<double, double>>& points, double half_width,
                            const torch::Tensor& xs, const torch::Tensor& ys) {
  auto mask = torch::zeros(xs.sizes(), torch::kBool);
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const auto [x0, y0] = points[i];
    const auto [x1, y1] = points[i + 1];
    const double dx = x1 - x0, dy = y1 - y0;
    const double len2 = std::max(1e-9, dx * dx + dy * dy);
    const auto t = (((xs - x0) * dx + (ys - y0) * dy) / len2).clamp(0, 1);
    const auto d2 = (xs - x0 - t * dx).pow(2) + (ys - y0 - t * dy).pow(2);
    mask.logical_or_(d2 <= half_width * half_width);
  }
  return mask;
}

}  // namespace

DemoScene make_demo_scene(int64_t height, int64_t width, uint64_t seed) {
  if (height < 64 || width < 64) throw std::invalid_argument("the demo scene needs at least 64x64");
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double scale = std::sqrt(static_cast<double>(height * width)) / 2880.0;  // 1 at 4K
  const auto ys = torch::arange(height, torch::kFloat).unsqueeze(1).expand({height, width});
  const auto xs = torch::arange(width, torch::kFloat).unsqueeze(0).expand({height, width});

  auto mask = torch::full({height, width}, static_cast<int64_t>(kGround), torch::kLong);
  const auto terrain = smooth_noise(height, width, 700 * scale, 3, gen);
  const auto greenery = smooth_noise(height, width, 300 * scale, 3, gen);
  mask.masked_fill_(greenery > 0.25, kVegetation);
  mask.masked_fill_(terrain < -0.45, kWater);

  // Roads: a few long gently bending polylines across the scene.
  auto road = torch::zeros({height, width}, torch::kBool);
  for (int r = 0; r < 4; ++r) {
    std::vector<std::pair<double, double>> pts;
    const bool horizontal = r % 2 == 0;
    double a = uniform(gen, 0.15, 0.85) * (horizontal ? height : width);
    for (int k = 0; k <= 6; ++k) {
      const double b = (horizontal ? width : height) * k / 6.0;
      a += uniform(gen, -0.06, 0.06) * (horizontal ? height : width);
      pts.emplace_back(horizontal ? std::make_pair(b, a) : std::make_pair(a, b));
    }
    road.logical_or_(near_polyline(pts, 14 * scale, xs, ys));
  }

  // Buildings: rectangles on dry ground near the roads' network, never on water.
  auto building = torch::zeros({height, width}, torch::kBool);
  const int count = static_cast<int>(260 * scale * scale) + 8;
  for (int b = 0; b < count; ++b) {
    const auto bw = static_cast<int64_t>(uniform(gen, 30, 110) * scale) + 4;
    const auto bh = static_cast<int64_t>(uniform(gen, 30, 110) * scale) + 4;
    const auto x0 = static_cast<int64_t>(uniform(gen, 0, static_cast<double>(width - bw)));
    const auto y0 = static_cast<int64_t>(uniform(gen, 0, static_cast<double>(height - bh)));
    const auto patch = mask.narrow(0, y0, bh).narrow(1, x0, bw);
    if (patch.eq(kWater).any().item<bool>()) continue;
    building.narrow(0, y0, bh).narrow(1, x0, bw).fill_(true);
  }
  mask.masked_fill_(building, kBuilding);
  mask.masked_fill_(road, kRoad);

  // Appearance: a base colour per class, class-specific texture, lighting.
  const std::array<std::array<float, 3>, kClassCount> base = {
      {{150, 128, 96}, {40, 70, 120}, {60, 120, 50}, {105, 105, 110}, {185, 90, 70}}};
  auto palette = torch::empty({kClassCount, 3});
  for (int c = 0; c < kClassCount; ++c) {
    for (int k = 0; k < 3; ++k) palette[c][k] = base[c][k];
  }
  auto image = palette.index_select(0, mask.reshape(-1)).t().reshape({3, height, width});
  const auto fine = smooth_noise(height, width, 6 * scale + 1, 2, gen);
  const auto medium = smooth_noise(height, width, 40 * scale + 1, 2, gen);
  const auto texture = torch::where(mask == kVegetation, 45 * fine + 20 * medium,
                                    torch::where(mask == kWater, 10 * medium, 18 * fine));
  image.add_(texture.unsqueeze(0));
  const auto light = 1.0 + 0.18 * smooth_noise(height, width, 1500 * scale, 1, gen);
  image.mul_(light.unsqueeze(0));
  image.add_(torch::randn({3, height, width}, gen) * 8);

  DemoScene scene;
  scene.image = image.round_().clamp_(0, 255).to(torch::kUInt8);
  scene.mask = mask;
  scene.class_names = {"ground", "water", "vegetation", "road", "building"};
  scene.class_colors = {
      {{150, 128, 96}, {30, 90, 200}, {40, 160, 40}, {200, 200, 200}, {220, 60, 40}}};
  return scene;
}

ClassTable demo_scene_classes(const DemoScene& scene) {
  ClassTable table;
  for (size_t c = 0; c < scene.class_names.size(); ++c) {
    table.classes.push_back({scene.class_names[c], scene.class_colors[c]});
  }
  return table;
}

namespace {
Image as_image(const DemoScene& scene) {
  Image image;
  image.pixels = scene.image;
  image.path = "demo scene";
  return image;
}
}  // namespace

ChannelStats demo_scene_stats(const DemoScene& scene) {
  ChannelStatsAccumulator accumulator;
  accumulator.add(as_image(scene));
  return accumulator.finish();
}

Example demo_scene_example(const DemoScene& scene, const ChannelStats& stats) {
  // The target in the type every dataset's labels have (core/label_ids.h).
  const auto classes = demo_scene_classes(scene);
  return {normalize(as_image(scene), stats),
          scene.mask.to(label_dtype_for(classes.size(), classes.ignore_index))};
}

}  // namespace revup
