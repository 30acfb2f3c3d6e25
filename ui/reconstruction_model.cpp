#include "ui/reconstruction_model.h"

#include <algorithm>

#include "models/reconstruction_probe.h"

namespace revup::ui {

QImage greyImage(const torch::Tensor& map, double lo, double hi) {
  const auto scaled = ((map.to(torch::kDouble) - lo) / std::max(1e-12, hi - lo) * 255.0)
                          .clamp(0, 255)
                          .to(torch::kUInt8)
                          .contiguous();
  const int h = static_cast<int>(scaled.size(0)), w = static_cast<int>(scaled.size(1));
  QImage image(w, h, QImage::Format_Grayscale8);
  const auto* src = scaled.data_ptr<uint8_t>();
  for (int y = 0; y < h; ++y) std::copy_n(src + int64_t(y) * w, w, image.scanLine(y));
  return image;
}

ReconstructionModel::ReconstructionModel(SegmentationNet net, const torch::Tensor& normalized)
    : net_(std::move(net)) {
  const int64_t h = normalized.size(1), w = normalized.size(2);
  const int64_t ch = std::min(h, kCropSize), cw = std::min(w, kCropSize);
  input_ = normalized.slice(1, (h - ch) / 2, (h - ch) / 2 + ch)
               .slice(2, (w - cw) / 2, (w - cw) / 2 + cw)
               .unsqueeze(0)
               .to(torch::kFloat)
               .contiguous();
  blockCount_ = invertible_block_count(net_->backbone);
}

ReconstructionResult ReconstructionModel::reconstruct(const ReconstructionRequest& request) {
  ReconstructionResult r;
  r.request = request;
  r.blockCount = blockCount_;
  const auto block = reconstruct_block(net_->backbone, input_, request.block, request.iterations);
  r.stage = block.stage;
  r.blockInStage = block.block;
  r.channels = static_cast<int>(block.truth.size(1));
  r.relativeError = block.relative_error;
  const int channel = std::clamp(request.channel, 0, r.channels - 1);
  r.request.channel = channel;
  const auto truth = block.truth[0][channel];
  const auto rebuilt = block.reconstructed[0][channel];
  const double lo = truth.min().item<double>(), hi = truth.max().item<double>();
  r.truth = greyImage(truth, lo, hi);
  r.reconstructed = greyImage(rebuilt, lo, hi);
  const auto error = (rebuilt - truth).abs();
  r.maxAbsError = error.max().item<double>();
  r.error = greyImage(error, 0.0, std::max(r.maxAbsError, 1e-12));
  return r;
}

ErrorCurves ReconstructionModel::errorCurves() {
  ErrorCurves curves;
  const int maxN = curves.iterations.last();
  for (const auto& c : reconstruction_errors(net_->backbone, input_, maxN)) {
    QVector<double> row;
    for (int n : curves.iterations) row.push_back(c.relative_errors.at(n - 1));
    curves.perBlock.push_back(row);
  }
  return curves;
}

}  // namespace revup::ui
