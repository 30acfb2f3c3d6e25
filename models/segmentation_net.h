#pragma once
// A RevUp segmentation network: the memory-saving backbone and a light decoder
// that fuses every stage's output at the first stage's resolution and predicts
// a score per class for every pixel of the full-resolution input.
//
// The decoder is deliberately small: at 4K the backbone's memory is flat in
// depth, so what remains is the decoder's own activations at stride 4 and the
// logits at full size; both grow with the image, not with the depth.
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/trainer.h"
#include "models/network.h"
#include "models/segmentation_loss.h"

namespace revup {

struct SegmentationConfig {
  ModelConfig backbone;  // classifier head off; its arch picks RevUp or a baseline
  int64_t num_classes = 2;
  int64_t decoder_width = 32;  // channels of the fused stride-4 feature map
  std::string preset;          // the preset it came from ("" when custom)

  void validate() const;
  nlohmann::json to_json() const;
  static SegmentationConfig from_json(const nlohmann::json& j);
};

struct SegmentationNetImpl : torch::nn::Module {
  explicit SegmentationNetImpl(SegmentationConfig config);

  // [N, C, H, W] -> logits [N, num_classes, H, W] (any H, W); for a volumetric
  // backbone [N, C, D, H, W] -> [N, num_classes, D, H, W].
  torch::Tensor forward(const torch::Tensor& x);
  // The same logits before the final bilinear (trilinear) upsampling: [N, K, ~H/4, ~W/4].
  // Training uses these; segmentation_loss upsamples them a band at a time,
  // so full-resolution logits never sit in memory.
  torch::Tensor forward_coarse(const torch::Tensor& x);
  // What the head reads: the fused stride-4 map before its ReLU,
  // [N, decoder_width, ~H/4, ~W/4]; forward_coarse is the head applied to it.
  torch::Tensor forward_features(const torch::Tensor& x);
  // segmentation_loss(forward_coarse(x), target) from forward_features(x):
  // the head runs inside the banded loss, so that with many classes the
  // coarse logits never exist whole (head_upsampled_segmentation_loss).
  torch::Tensor head_loss(const torch::Tensor& features, const torch::Tensor& target,
                          const SegmentationLossOptions& options);

  // Fixup trains scalar biases and scales at lr/10.
  std::vector<torch::Tensor> scalar_parameters() const;
  std::vector<torch::Tensor> weight_parameters() const;
  const SegmentationConfig& config() const { return config_; }
  // The eval-mode forward (full-resolution logits) as plain ops for export.
  InferenceGraph inference_graph(const InputNormalization& input = {});

  Network backbone{nullptr};

 private:
  SegmentationConfig config_;
  // 1x1 convolutions (Conv2d, or Conv3d for volumes): one per stage ->
  // decoder_width, then decoder_width -> classes.
  torch::nn::ModuleList laterals_;
  std::shared_ptr<torch::nn::Module> classifier_;
};
TORCH_MODULE(SegmentationNet);

// What the trainer needs, as a pair: the forward up to the head's features,
// the loss that applies the head (head_loss), and Fixup's two parameter
// groups. One function gives both, so that features never meet a loss that
// would read them as logits.
struct SegmentationObjective {
  TrainableModel model;
  LossFunction loss;
};
SegmentationObjective training_objective(SegmentationNet net,
                                         const SegmentationLossOptions& options);

}  // namespace revup
