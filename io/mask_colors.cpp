#include "io/mask_colors.h"

#include <stdexcept>

namespace revup {

namespace {

torch::Tensor palette(const ClassTable& classes) {
  // One extra black row for ignore and ids outside the table.
  auto p = torch::zeros({classes.size() + 1, 3}, torch::kUInt8);
  auto a = p.accessor<uint8_t, 2>();
  for (int64_t i = 0; i < classes.size(); ++i) {
    for (int k = 0; k < 3; ++k) a[i][k] = classes.classes[i].color[k];
  }
  return p;
}

}  // namespace

torch::Tensor colorize(const torch::Tensor& mask, const ClassTable& classes) {
  auto ids = mask.to(torch::kInt64).cpu();
  const auto outside = ids.lt(0).logical_or(ids.ge(classes.size()));
  ids = ids.masked_fill(outside, classes.size());
  return palette(classes).index({ids}).permute({2, 0, 1}).contiguous();
}

torch::Tensor to_display_rgb(const torch::Tensor& image) {
  auto x = image.cpu();
  if (x.size(0) >= 3) {
    x = x.slice(0, 0, 3);
  } else {
    x = x.slice(0, 0, 1).expand({3, x.size(1), x.size(2)});
  }
  if (x.scalar_type() == torch::kUInt8) return x.contiguous();
  auto f = x.to(torch::kFloat32);
  const auto finite = f.isfinite();
  auto values = f.masked_select(finite);
  if (values.numel() == 0) return torch::zeros(x.sizes(), torch::kUInt8);
  if (values.numel() > 1000000)
    values = values.index({torch::randperm(values.numel()).slice(0, 0, 1000000)});
  const auto q = torch::quantile(values, torch::tensor({0.02f, 0.98f}));
  const float lo = q[0].item<float>(), hi = q[1].item<float>();
  const float scale = hi > lo ? 255.0f / (hi - lo) : 1.0f;
  return ((f - lo) * scale).clamp(0, 255).nan_to_num(0).round().to(torch::kUInt8);
}

torch::Tensor overlay(const torch::Tensor& image, const torch::Tensor& mask,
                      const ClassTable& classes, double alpha) {
  const auto base = to_display_rgb(image).to(torch::kFloat32);
  const auto colors = colorize(mask, classes).to(torch::kFloat32);
  if (base.sizes().slice(1) != mask.sizes()) {
    throw std::runtime_error("overlay: mask " + c10::str(mask.sizes()) + " and image " +
                             c10::str(image.sizes()) + " differ in size");
  }
  const auto ids = mask.to(torch::kInt64).cpu();
  const auto labelled = ids.ge(0).logical_and(ids.lt(classes.size())).unsqueeze(0);
  const auto blended = base * (1 - alpha) + colors * alpha;
  return torch::where(labelled, blended, base).round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor colors_to_ids(const torch::Tensor& rgb, const ClassTable& classes,
                            const std::string& path) {
  if (rgb.dim() != 3 || rgb.size(0) < 3 || rgb.scalar_type() != torch::kUInt8) {
    throw std::runtime_error(path + ": a colour mask must be 8-bit RGB");
  }
  const auto c = rgb.slice(0, 0, 3).to(torch::kInt64);
  const auto code = c[0] * 65536 + c[1] * 256 + c[2];  // one int per colour
  auto ids = torch::full(code.sizes(), int64_t{-1}, torch::kInt64);
  for (int64_t i = classes.size() - 1; i >= 0; --i) {  // first class wins a shared colour
    const auto& col = classes.classes[i].color;
    ids.masked_fill_(code.eq(col[0] * 65536 + col[1] * 256 + col[2]), i);
  }
  const auto v = voc_color(255);
  ids.masked_fill_(ids.lt(0).logical_and(code.eq(v[0] * 65536 + v[1] * 256 + v[2])),
                   classes.ignore_index);
  const auto unknown = ids.lt(0).nonzero();
  if (unknown.size(0) > 0) {
    const int64_t y = unknown[0][0].item<int64_t>(), x = unknown[0][1].item<int64_t>();
    throw std::runtime_error(path + ": colour (" + std::to_string(c[0][y][x].item<int64_t>()) +
                             ", " + std::to_string(c[1][y][x].item<int64_t>()) + ", " +
                             std::to_string(c[2][y][x].item<int64_t>()) +
                             ") at x=" + std::to_string(x) + ", y=" + std::to_string(y) +
                             " is no class's colour (" + std::to_string(unknown.size(0)) +
                             " such pixels)");
  }
  return ids;
}

}  // namespace revup
