#pragma once
// What the reconstruction panel computes: for a block and a channel, the true
// activation entering the block, the same activation rebuilt from the block's
// output by N fixed-point iterations, and their difference; and for every
// block the l2 error for N = 1, 5, 40 (the paper's Figure 5). On a crop of the
// image: blocks are convolutional, so a crop is rebuilt like the whole.
// With the injective stem, "block" kInputImage is the image itself rebuilt
// through the whole first stage (the paper's Figure 4).
#include <QImage>
#include <QVector>

#include <torch/torch.h>

#include "models/segmentation_net.h"

namespace revup::ui {

struct ReconstructionRequest {
  static constexpr int kInputImage = -1;
  int block = 0;       // among the invertible blocks, forward order, or kInputImage
  int channel = 0;     // of that block's input
  int iterations = 1;  // N
};

struct ReconstructionResult {
  ReconstructionRequest request;
  int stage = 0, blockInStage = 0, channels = 0, blockCount = 0;
  int blocksWalked = 0;  // the input image: through how many blocks it was rebuilt
  // Greyscale (a colour image's three channels in colour); truth and rebuilt
  // share one scale.
  QImage truth, reconstructed, error;
  double relativeError = 0.0;  // ||x_N - x|| / ||x||, all channels
  double maxAbsError = 0.0;    // the error map's white
};

// Per block, the relative error for N = 1, 5 and 40.
struct ErrorCurves {
  QVector<int> iterations{1, 5, 40};
  QVector<QVector<double>> perBlock;  // [block][k]
  QVector<double> inputImage;         // [k]; empty without the injective stem
};

class ReconstructionModel {
 public:
  static constexpr int64_t kCropSize = 384;
  // A volume's crop per axis: 64^3 voxels cost a 3D network about what
  // 384^2 pixels cost a 2D one.
  static constexpr int64_t kVolumeCropSize = 64;

  // `normalized`: [C, H, W] (or [C, D, H, W] for a 3D model) as the model
  // sees it; a centred crop of at most kCropSize (kVolumeCropSize) per axis is
  // used. A volume's maps are shown at the crop's middle plane along D.
  ReconstructionModel(SegmentationNet net, const torch::Tensor& normalized);

  int blockCount() const { return blockCount_; }
  bool rebuildsInput() const { return rebuildsInput_; }
  ReconstructionResult reconstruct(const ReconstructionRequest& request);
  ErrorCurves errorCurves();

 private:
  SegmentationNet net_;
  torch::Tensor input_;  // [1, C, h, w] or [1, C, d, h, w]
  int blockCount_ = 0;
  bool rebuildsInput_ = false;

  ReconstructionResult reconstructInput(const ReconstructionRequest& request);
};

// A [H, W] tensor as an 8-bit greyscale image, lo -> black, hi -> white.
QImage greyImage(const torch::Tensor& map, double lo, double hi);
// A [3, H, W] tensor as an RGB image, one scale for all three channels.
QImage colourImage(const torch::Tensor& rgb, double lo, double hi);

}  // namespace revup::ui
