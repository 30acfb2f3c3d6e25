#include "models/segmentation_loss.h"

#include <vector>

#include "models/upsampled_loss.h"

namespace revup {

torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                             int64_t ignore_index) {
  const int64_t k = logits.size(1);
  const auto valid = target.ne(ignore_index).unsqueeze(1).to(logits.dtype());  // [N,1,(D,)H,W]
  const auto probs = torch::softmax(logits, 1) * valid;
  // one_hot takes int64 ids; label maps are stored smaller (core/label_ids.h).
  const auto safe_target = target.masked_fill(target.eq(ignore_index), 0).to(torch::kLong);
  // [N, ..., K] -> [N, K, ...]; every axis but the classes' is summed over.
  std::vector<int64_t> order{0, target.dim()}, dims{0};
  for (int64_t a = 1; a < target.dim(); ++a) {
    order.push_back(a);
    dims.push_back(a + 1);
  }
  const auto one_hot = torch::one_hot(safe_target, k).permute(order).to(logits.dtype()) * valid;
  const auto intersection = (probs * one_hot).sum(dims);
  const auto total = probs.sum(dims) + one_hot.sum(dims);
  const auto dice = (2 * intersection + 1.0) / (total + 1.0);
  // A class absent from both target and prediction says nothing about this image.
  const auto present = one_hot.sum(dims).gt(0);
  if (present.sum().item<int64_t>() == 0) return logits.sum() * 0;
  return 1.0 - dice.masked_select(present).mean();
}

torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& target,
                                const SegmentationLossOptions& options) {
  namespace F = torch::nn::functional;
  if (logits.sizes().slice(2) != target.sizes().slice(1)) {
    return upsampled_segmentation_loss(logits, target, {options.ignore_index, options.dice_weight});
  }
  auto loss = F::cross_entropy(logits, target.to(torch::kLong),
                               F::CrossEntropyFuncOptions().ignore_index(options.ignore_index));
  if (options.dice_weight > 0) {
    loss = loss + options.dice_weight * soft_dice_loss(logits, target, options.ignore_index);
  }
  return loss;
}

}  // namespace revup
