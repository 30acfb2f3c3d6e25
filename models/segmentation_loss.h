#pragma once
// Per-pixel losses for segmentation with an ignore label (unlabelled pixels,
// nodata in rasters).
#include <torch/torch.h>

namespace revup {

struct SegmentationLossOptions {
  int64_t ignore_index = 255;
  double dice_weight = 0.0;  // 0: cross-entropy only; else CE + w * (1 - soft Dice)
};

// logits [N, K, H, W], target [N, H, W] (int64 class ids or ignore_index).
// Coarser logits ([N, K, h, w], e.g. SegmentationNet::forward_coarse) are
// upsampled bilinearly to the target's size a band of rows at a time
// (upsampled_loss.h): the same numbers without full-resolution logits.
torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& target,
                                const SegmentationLossOptions& options);

// 1 - mean over classes present in the target or predicted of the soft Dice
// coefficient, ignoring ignore_index pixels.
torch::Tensor soft_dice_loss(const torch::Tensor& logits, const torch::Tensor& target,
                             int64_t ignore_index);

}  // namespace revup
