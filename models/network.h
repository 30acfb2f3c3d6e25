#pragma once
// A residual classifier built from a ModelConfig: stem, residual stages, head.
// The same class builds RevUp (with or without MemSave) and the baselines, so
// every comparison changes exactly one thing.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/inference_graph.h"
#include "core/sequence.h"
#include "core/trainer.h"
#include "models/model_config.h"
#include "models/revup_block.h"

namespace revup {

struct NetworkImpl : torch::nn::Module {
  explicit NetworkImpl(ModelConfig config);

  torch::Tensor forward(const torch::Tensor& x);
  // The last stage's feature map (before pooling).
  torch::Tensor features(const torch::Tensor& x);
  // Every residual stage's output (stride 4 * 2^s for ImageNet-style stems, 2^s for CIFAR), each
  // stage run as its own memory-saving sequence: what a segmentation decoder fuses.
  std::vector<torch::Tensor> stage_features(const torch::Tensor& x);

  // Stage 0 is the stem; stages 1.. hold the residual blocks.
  const std::vector<std::vector<LabeledBlock>>& stages() const { return stages_; }
  std::vector<RevUpBlock> invertible_blocks() const;
  int residual_block_count() const;

  // Fixup trains its scalar biases and scales at lr/10: split them out.
  std::vector<torch::Tensor> scalar_parameters() const;
  std::vector<torch::Tensor> weight_parameters() const;

  // The eval-mode forward as plain ops for export (see core/inference_graph.h),
  // taking raw inputs when `input` holds the normalization statistics.
  InferenceGraph inference_graph(const InputNormalization& input = {});
  // Stem and stages appended to `graph` from value x (tensors under `scope`);
  // each stage's output value goes to `stage_outputs`. Returns the last one.
  int describe_stages(InferenceGraph& graph, int x, const std::string& scope,
                      std::vector<int>* stage_outputs = nullptr);

  SequenceMode sequence_mode() const;
  const ModelConfig& config() const { return config_; }

 private:
  ModelConfig config_;
  std::vector<std::vector<LabeledBlock>> stages_;
  std::vector<RevUpBlock> invertible_;
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(Network);

// What the trainer needs from a classifier: its forward (the logits) and its
// parameters in Fixup's two groups. Each trainable network declares its own
// beside its type (SegmentationNet's trains on coarse logits), and there is no
// generic version: a call with a type that has none does not compile.
TrainableModel trainable(Network net);

// The name a stage's block is registered (and checkpointed) under, e.g. "stage1_block0".
std::string block_module_name(const BlockLabel& label);

// Throws std::invalid_argument when statistics are given for another channel count.
void check_input_channels(const InputNormalization& input, int64_t channels);

}  // namespace revup
