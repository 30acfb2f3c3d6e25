#pragma once
// Cross-entropy (+ soft Dice) of logits bilinearly (for volumes trilinearly)
// upsampled to the target's size, computed one band of rows (of planes) at a
// time.
//
// Why: at 3840x2160 with K classes, full-resolution logits, their log-softmax
// and both gradients are 4 x K x 33 MB, more than the whole memory-saving
// backbone. Here the upsampled logits never exist in full: forward keeps the
// coarse logits only, backward rebuilds each band, differentiates it and adds
// its gradient into the coarse logits'. The numbers are those of
// interpolate(bilinear, align_corners=false) followed by the plain loss.
#include <torch/torch.h>

#include <cstdint>

namespace revup {

struct UpsampledLossOptions {
  int64_t ignore_index = 255;
  double dice_weight = 0.0;
  // Elements of one band of upsampled logits (N x K x rows x W); bounds the
  // loss's working memory (1M floats: 4 MiB a tensor; a band's backward holds
  // about ten of them). At 16 MiB a band, that working memory was the
  // segmentation step's peak once the decoder's own maps had shrunk. Smaller
  // bands cost time, not only memory: each band of a volume's plane
  // interpolates the two coarse planes it reads whole, so 256K-element bands
  // saved 7 MiB at ch2 (117 classes) but made its step twice as slow.
  // 0: 1M for images, 512K for volumes. At ch2 (bench seg3d), once the head
  // moved into the loss, 1M-element bands made the loss the step's peak: 512K
  // took 5.4 MiB off it, for 1.3 s more a step (13.1 s against 11.8).
  int64_t band_elements = 0;
};

// coarse [N, K, h, w] float logits, target [N, H, W] integer class ids (any
// integer dtype; ignore_index for unlabelled pixels); or coarse [N, K, d, h, w]
// and target [N, D, H, W] for volumes, banded over D. Returns the mean
// cross-entropy over labelled pixels (+ dice_weight x (1 - soft Dice)).
torch::Tensor upsampled_segmentation_loss(const torch::Tensor& coarse, const torch::Tensor& target,
                                          const UpsampledLossOptions& options);

// upsampled_segmentation_loss(relu_conv1x1(features, weight, bias), target)
// with the 1x1 head inside the loss: features [N, C, h, w] (or [N, C, d, h, w]),
// weight [K, C, 1, 1] (or [K, C, 1, 1, 1]), bias [K]. Why: with many classes
// the coarse logits outweigh the features (ch2's 117 at stride 4: 51 MiB
// against 14), and training would hold them, their gradient and the features'
// at once. Here a band's few coarse rows of logits are computed when it reads
// them, in forward and in backward, and the features' gradient is written into
// their own storage when nothing else holds them.
torch::Tensor head_upsampled_segmentation_loss(const torch::Tensor& features,
                                               const torch::Tensor& weight,
                                               const torch::Tensor& bias,
                                               const torch::Tensor& target,
                                               const UpsampledLossOptions& options);

// Rows [row_begin, row_end) of interpolate(coarse, {H, W}, bilinear,
// align_corners=false), with autograd: [N, K, row_end - row_begin, W].
torch::Tensor upsample_rows(const torch::Tensor& coarse, int64_t height, int64_t width,
                            int64_t row_begin, int64_t row_end);

}  // namespace revup
