#include "io/channel_stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace revup {

void to_json(nlohmann::json& j, const ChannelStats& stats) {
  j = {{"mean", stats.mean}, {"std", stats.std}};
  if (stats.per_image) j["per_image"] = true;
}

void from_json(const nlohmann::json& j, ChannelStats& stats) {
  stats.mean = j.at("mean").get<std::vector<double>>();
  stats.std = j.at("std").get<std::vector<double>>();
  stats.per_image = j.value("per_image", false);
  if (stats.mean.size() != stats.std.size()) {
    throw std::runtime_error("channel stats: mean and std differ in length");
  }
}

torch::Tensor valid_pixels(const Image& image) {
  const auto& p = image.pixels;
  torch::Tensor valid = torch::ones(p.sizes().slice(1), torch::kBool);
  if (torch::isFloatingType(p.scalar_type())) valid = p.isfinite().all(0);
  if (image.nodata) {
    const double nd = *image.nodata;
    const auto is_nodata = std::isnan(nd) ? p.isnan() : p.eq(nd);
    valid = valid.logical_and(is_nodata.any(0).logical_not());
  }
  return valid;
}

void ChannelStatsAccumulator::add(const Image& image) {
  const int64_t c = image.channels();
  if (count_.empty()) {
    count_.assign(c, 0);
    sum_.assign(c, 0);
    sum_squares_.assign(c, 0);
  } else if (static_cast<int64_t>(count_.size()) != c) {
    throw std::runtime_error(image.path + ": has " + std::to_string(c) + " channels, the images " +
                             "before it " + std::to_string(count_.size()));
  }
  const auto valid = valid_pixels(image).reshape({-1});
  const auto flat = image.pixels.reshape({c, -1});
  for (int64_t k = 0; k < c; ++k) {
    const auto v = flat[k].masked_select(valid).to(torch::kFloat64);
    count_[k] += static_cast<double>(v.numel());
    sum_[k] += v.sum().item<double>();
    sum_squares_[k] += v.square().sum().item<double>();
  }
}

ChannelStats ChannelStatsAccumulator::finish() const {
  if (count_.empty()) throw std::runtime_error("channel stats: no images");
  ChannelStats s;
  for (size_t k = 0; k < count_.size(); ++k) {
    const double n = std::max(count_[k], 1.0);
    const double mean = sum_[k] / n;
    const double var = std::max(sum_squares_[k] / n - mean * mean, 0.0);
    const double sd = std::sqrt(var);
    s.mean.push_back(mean);
    s.std.push_back(sd > 1e-6 * std::max(1.0, std::abs(mean)) ? sd : 1.0);
  }
  return s;
}

torch::Tensor normalize(const Image& image, const ChannelStats& given) {
  const int64_t c = image.channels();
  ChannelStats stats = given;
  if (given.per_image && static_cast<int64_t>(given.mean.size()) == c) {
    ChannelStatsAccumulator own;
    own.add(image);
    stats = own.finish();
  }
  if (static_cast<int64_t>(stats.mean.size()) != c) {
    throw std::runtime_error(image.path + ": has " + std::to_string(c) +
                             " channels, the normalization statistics " +
                             std::to_string(stats.mean.size()));
  }
  // (x - mean) / sd in float64, a chunk at a time, straight into the float32
  // result: done whole, the float64 copies were two to four times the image
  // (a 1 mm brain volume: 108 MiB for a 27 MiB input), inside every training
  // step, and at ch2 they were the 3D step's peak.
  constexpr int64_t kChunk = int64_t{1} << 20;
  auto x = torch::empty(image.pixels.sizes(), image.pixels.options().dtype(torch::kFloat32));
  for (int64_t k = 0; k < c; ++k) {
    const auto in = image.pixels.select(0, k).reshape(-1);
    auto out = x.select(0, k).view(-1);
    for (int64_t i = 0; i < in.numel(); i += kChunk) {
      const int64_t n = std::min(kChunk, in.numel() - i);
      out.narrow(0, i, n).copy_((in.narrow(0, i, n).to(torch::kFloat64) - stats.mean[k]) /
                                stats.std[k]);
    }
  }
  return x.masked_fill_(valid_pixels(image).logical_not().unsqueeze(0), 0.0f);
}

}  // namespace revup
