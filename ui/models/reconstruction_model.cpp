#include "ui/models/reconstruction_model.h"

#include <algorithm>

#include "models/reconstruction_probe.h"

namespace revup::ui {

namespace {

// [H, W, K] bytes, K = 1 or 3.
torch::Tensor toBytes(const torch::Tensor& hwk, double lo, double hi) {
  return ((hwk.to(torch::kDouble) - lo) / std::max(1e-12, hi - lo) * 255.0)
      .clamp(0, 255)
      .to(torch::kUInt8)
      .contiguous();
}

QImage imageFromBytes(const torch::Tensor& bytes, QImage::Format format) {
  const int h = static_cast<int>(bytes.size(0)), w = static_cast<int>(bytes.size(1));
  const int64_t row = w * bytes.size(2);
  QImage image(w, h, format);
  const auto* src = bytes.data_ptr<uint8_t>();
  for (int y = 0; y < h; ++y) std::copy_n(src + y * row, row, image.scanLine(y));
  return image;
}

// The plane shown of a map without its batch axis: [.., H, W] as it is,
// [.., D, H, W] at the middle of D.
torch::Tensor shownPlane(const torch::Tensor& map, int64_t spatialAxes) {
  if (spatialAxes == 2) return map;
  const int64_t depthAxis = map.dim() - 3;
  return map.select(depthAxis, map.size(depthAxis) / 2);
}

}  // namespace

QImage greyImage(const torch::Tensor& map, double lo, double hi) {
  return imageFromBytes(toBytes(map.unsqueeze(-1), lo, hi), QImage::Format_Grayscale8);
}

QImage colourImage(const torch::Tensor& rgb, double lo, double hi) {
  return imageFromBytes(toBytes(rgb.permute({1, 2, 0}), lo, hi), QImage::Format_RGB888);
}

ReconstructionModel::ReconstructionModel(SegmentationNet net, const torch::Tensor& normalized)
    : net_(std::move(net)) {
  const int64_t crop = normalized.dim() == 4 ? kVolumeCropSize : kCropSize;
  auto centred = normalized;
  for (int64_t axis = 1; axis < normalized.dim(); ++axis) {
    const int64_t n = normalized.size(axis), kept = std::min(n, crop);
    centred = centred.slice(axis, (n - kept) / 2, (n - kept) / 2 + kept);
  }
  input_ = centred.unsqueeze(0).to(torch::kFloat).contiguous();
  blockCount_ = invertible_block_count(net_->backbone);
  rebuildsInput_ = reconstructs_input(net_->backbone);
}

ReconstructionResult ReconstructionModel::reconstruct(const ReconstructionRequest& request) {
  if (request.block == ReconstructionRequest::kInputImage) return reconstructInput(request);
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
  const int64_t axes = input_.dim() - 2;
  const auto truth = shownPlane(block.truth[0][channel], axes);
  const auto rebuilt = shownPlane(block.reconstructed[0][channel], axes);
  const double lo = truth.min().item<double>(), hi = truth.max().item<double>();
  r.truth = greyImage(truth, lo, hi);
  r.reconstructed = greyImage(rebuilt, lo, hi);
  const auto error = (rebuilt - truth).abs();
  r.maxAbsError = error.max().item<double>();
  r.error = greyImage(error, 0.0, std::max(r.maxAbsError, 1e-12));
  return r;
}

ReconstructionResult ReconstructionModel::reconstructInput(const ReconstructionRequest& request) {
  const auto rebuilt = reconstruct_input(net_->backbone, input_, request.iterations);
  ReconstructionResult r;
  r.request = request;
  r.blockCount = blockCount_;
  r.blocksWalked = rebuilt.blocks;
  r.channels = static_cast<int>(input_.size(1));
  r.relativeError = rebuilt.relative_error;
  const int64_t axes = input_.dim() - 2;
  const auto truth = shownPlane(rebuilt.truth[0], axes);
  const auto image = shownPlane(rebuilt.reconstructed[0], axes);
  const auto error = (image - truth).abs();
  r.maxAbsError = error.max().item<double>();
  // A colour image is shown in colour: the paper's N = 1 colour shift is the point.
  const bool colour = r.channels == 3;
  r.request.channel = colour ? 0 : std::clamp(request.channel, 0, r.channels - 1);
  const auto shown = colour ? truth : truth[r.request.channel];
  const double lo = shown.min().item<double>(), hi = shown.max().item<double>();
  if (colour) {
    r.truth = colourImage(truth, lo, hi);
    r.reconstructed = colourImage(image, lo, hi);
    r.error = greyImage(error.amax(0), 0.0, std::max(r.maxAbsError, 1e-12));
  } else {
    r.truth = greyImage(shown, lo, hi);
    r.reconstructed = greyImage(image[r.request.channel], lo, hi);
    r.error = greyImage(error[r.request.channel], 0.0, std::max(r.maxAbsError, 1e-12));
  }
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
  if (rebuildsInput_) {
    for (int n : curves.iterations) {
      curves.inputImage.push_back(reconstruct_input(net_->backbone, input_, n).relative_error);
    }
  }
  return curves;
}

}  // namespace revup::ui
