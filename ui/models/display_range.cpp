#include "ui/models/display_range.h"

#include <cstring>

namespace revup::ui {

DisplayRange percentileRange(const torch::Tensor& values, std::optional<double> nodata,
                             double lowPercent, double highPercent) {
  if (values.scalar_type() == torch::kUInt8) return {0, 255};
  auto v = values.reshape({-1}).to(torch::kFloat64);
  auto keep = v.isfinite();
  if (nodata) keep = keep.logical_and(v.ne(*nodata));
  v = v.masked_select(keep);
  if (v.numel() == 0) return {0, 1};
  if (v.numel() > 1000000) {
    v = v.index({torch::randint(v.numel(), {1000000}, torch::kInt64)});
  }
  const auto q =
      torch::quantile(v, torch::tensor({lowPercent / 100, highPercent / 100}, torch::kFloat64));
  DisplayRange r{q[0].item<double>(), q[1].item<double>()};
  if (r.high <= r.low) r.high = r.low + 1;  // a constant image: not a division by zero
  return r;
}

QImage toQImage(const torch::Tensor& chw, const DisplayRange& range, std::optional<double> nodata) {
  const int64_t h = chw.size(1), w = chw.size(2);
  auto rgb = chw.size(0) >= 3 ? chw.slice(0, 0, 3) : chw.slice(0, 0, 1).expand({3, h, w});
  torch::Tensor bytes;
  if (rgb.scalar_type() == torch::kUInt8 && range.low == 0 && range.high == 255) {
    bytes = rgb;
  } else {
    auto f = rgb.to(torch::kFloat32);
    auto bad = f.isfinite().logical_not();
    if (nodata) bad = bad.logical_or(f.eq(static_cast<float>(*nodata)));
    f = ((f - range.low) * (255.0 / range.window())).clamp(0, 255).round();
    bytes = f.masked_fill(bad.any(0, true), 0).to(torch::kUInt8);
  }
  // QImage::Format_RGB32 is 0xffRRGGBB per pixel: bytes B, G, R, 255 in
  // (little-endian) memory.
  const auto opaque = torch::full({h, w}, 255, torch::kUInt8);
  const auto bgra = torch::stack({bytes[2], bytes[1], bytes[0], opaque}, 2).contiguous();
  QImage image(static_cast<int>(w), static_cast<int>(h), QImage::Format_RGB32);
  const auto* src = bgra.data_ptr<uint8_t>();
  for (int y = 0; y < h; ++y) std::memcpy(image.scanLine(y), src + y * w * 4, w * 4);
  return image;
}

}  // namespace revup::ui
