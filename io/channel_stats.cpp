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

// Pixels per chunk of the float64 arithmetic in the statistics and the
// normalization (8 MiB a temporary).
constexpr int64_t kStatsChunk = int64_t{1} << 20;

torch::Tensor valid_pixels(const Image& image) {
  const auto& p = image.pixels;
  const auto flat = p.reshape({p.size(0), -1});
  auto valid = torch::ones({flat.size(1)}, torch::kBool);
  const bool floating = torch::isFloatingType(p.scalar_type());
  // A chunk at a time: on the CPU isfinite makes two float temporaries the
  // size of its input (64 MiB for a 32 MiB volume).
  for (int64_t i = 0; (floating || image.nodata) && i < flat.size(1); i += kStatsChunk) {
    const int64_t n = std::min(kStatsChunk, flat.size(1) - i);
    const auto chunk = flat.narrow(1, i, n);
    auto v = valid.narrow(0, i, n);
    if (floating) v.logical_and_(chunk.isfinite().all(0));
    if (image.nodata) {
      const double nd = *image.nodata;
      const auto is_nodata = std::isnan(nd) ? chunk.isnan() : chunk.eq(nd);
      v.logical_and_(is_nodata.any(0).logical_not());
    }
  }
  return valid.view(p.sizes().slice(1));
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
  // A chunk at a time, as normalize does: whole, the selected pixels, their
  // float64 copy and its square were five times a float32 volume (a 1 mm
  // brain: 122 MiB above what was live), and per-volume normalization runs
  // this inside every training step, where at ch2 it was the step's peak.
  const auto valid = valid_pixels(image).reshape({-1});
  const auto flat = image.pixels.reshape({c, -1});
  for (int64_t k = 0; k < c; ++k) {
    for (int64_t i = 0; i < valid.numel(); i += kStatsChunk) {
      const int64_t n = std::min(kStatsChunk, valid.numel() - i);
      const auto v =
          flat[k].narrow(0, i, n).masked_select(valid.narrow(0, i, n)).to(torch::kFloat64);
      count_[k] += static_cast<double>(v.numel());
      sum_[k] += v.sum().item<double>();
      sum_squares_[k] += v.square().sum().item<double>();
    }
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
  auto x = torch::empty(image.pixels.sizes(), image.pixels.options().dtype(torch::kFloat32));
  for (int64_t k = 0; k < c; ++k) {
    const auto in = image.pixels.select(0, k).reshape(-1);
    auto out = x.select(0, k).view(-1);
    for (int64_t i = 0; i < in.numel(); i += kStatsChunk) {
      const int64_t n = std::min(kStatsChunk, in.numel() - i);
      out.narrow(0, i, n).copy_((in.narrow(0, i, n).to(torch::kFloat64) - stats.mean[k]) /
                                stats.std[k]);
    }
  }
  return x.masked_fill_(valid_pixels(image).logical_not().unsqueeze(0), 0.0f);
}

}  // namespace revup
