#include "models/network.h"

#include <stdexcept>
#include <string>

#include "models/state_utils.h"
#include "models/stem.h"

namespace revup {

std::string block_module_name(const BlockLabel& label) {
  return "stage" + std::to_string(label.stage) + "_block" + std::to_string(label.block);
}

NetworkImpl::NetworkImpl(ModelConfig config) : config_(std::move(config)) {
  config_.validate();
  const bool revup = config_.is_revup();
  const bool batch_norm = config_.arch == "resnet";
  const auto kind = config_.bottleneck() ? BlockKind::kBottleneck : BlockKind::kBasic;
  const auto counts = config_.blocks_per_stage();
  const auto widths = config_.resolved_widths();
  const bool cifar = config_.resolved_style() == "cifar";
  int total_blocks = 0;
  for (int n : counts) total_blocks += n;

  const int64_t stem_width = config_.resolved_stem_width();
  auto stem_kind = cifar ? StemKind::kCifar : StemKind::kImageNet;
  if (config_.injective_stem) stem_kind = StemKind::kInjective;
  if (config_.stem == "patch") stem_kind = StemKind::kPatch;
  auto stem = register_module(
      "stem", StemBlock(stem_kind, batch_norm ? StemNorm::kBatchNorm : StemNorm::kFixupBias,
                        config_.in_channels, stem_width, config_.dims, config_.stem_strides));
  stages_.push_back({{stem, {0, 0}}});

  int64_t channels = stem_width;
  for (size_t s = 0; s < counts.size(); ++s) {
    std::vector<LabeledBlock> stage;
    for (int b = 0; b < counts[s]; ++b) {
      BranchShape shape{kind,
                        channels,
                        widths[s] / (kind == BlockKind::kBottleneck ? 4 : 1),
                        widths[s],
                        (b == 0 && s > 0) ? 2 : 1,
                        config_.dims};
      if (shape.kind == BlockKind::kBasic) shape.mid = shape.out;
      const BlockLabel label{static_cast<int>(s) + 1, b};
      const std::string name = block_module_name(label);
      const bool shape_changes = shape.stride != 1 || shape.in != shape.out;
      if (revup && !shape_changes) {
        auto block = register_module(
            name, RevUpBlock(kind, channels, total_blocks, config_.sn, config_.dims));
        invertible_.push_back(RevUpBlock(block));
        stage.push_back({block, label});
      } else if (batch_norm) {
        stage.push_back({register_module(name, BatchNormBlock(shape)), label});
      } else {
        stage.push_back(
            {register_module(name, FixupBlock(shape, total_blocks, /*pre_activation=*/revup)),
             label});
      }
      channels = shape.out;
    }
    stages_.push_back(std::move(stage));
  }
  if (!config_.classifier) return;
  fc_ = register_module("fc", torch::nn::Linear(channels, config_.num_classes));
  if (!batch_norm) {
    torch::NoGradGuard no_grad;
    fc_->weight.zero_();
    fc_->bias.zero_();
  }
}

SequenceMode NetworkImpl::sequence_mode() const {
  if (config_.arch == "revup-memsave") return SequenceMode::kMemSave;
  if (config_.arch == "resnet-fixup-ckpt") return SequenceMode::kCheckpoint;
  return SequenceMode::kPlain;
}

torch::Tensor NetworkImpl::features(const torch::Tensor& x) {
  SequenceOptions options{sequence_mode(), config_.inverse};
  if (options.mode == SequenceMode::kCheckpoint) {
    // Per-stage checkpointing: each stage keeps only its input.
    torch::Tensor h = x;
    for (const auto& stage : stages_) h = run_sequence(stage, h, options);
    return h;
  }
  std::vector<LabeledBlock> all;
  for (const auto& stage : stages_) all.insert(all.end(), stage.begin(), stage.end());
  return run_sequence(all, x, options);
}

std::vector<torch::Tensor> NetworkImpl::stage_features(const torch::Tensor& x) {
  SequenceOptions options{sequence_mode(), config_.inverse};
  std::vector<torch::Tensor> outputs;
  // One sequence per stage, its output kept for the decoder; the stem rides
  // with stage 1 (its output is not needed, and MemSave keeps only the image).
  std::vector<LabeledBlock> stage = stages_[0];
  torch::Tensor h = x;
  for (size_t s = 1; s < stages_.size(); ++s) {
    stage.insert(stage.end(), stages_[s].begin(), stages_[s].end());
    h = run_sequence(stage, h, options);
    outputs.push_back(h);
    stage.clear();
  }
  return outputs;
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(!fc_.is_empty(),
              "this network was built without a classifier head (use stage_features)");
  auto f = features(x);
  // RevUp's blocks are pre-activation: the stream they leave is not rectified
  // (ResNet's ReLU after each sum is). A final ReLU before the pooling, as in
  // pre-activation ResNets and i-ResNet, keeps the average from cancelling the
  // positive and negative parts of a feature.
  if (config_.is_revup()) f = torch::relu(f);
  if (config_.dims == 3) return fc_->forward(f.flatten(2).mean(2));
  return fc_->forward(torch::adaptive_avg_pool2d(f, {1, 1}).flatten(1));
}

int NetworkImpl::describe_stages(InferenceGraph& graph, int x, const std::string& scope,
                                 std::vector<int>* stage_outputs) {
  TORCH_CHECK(!is_training(), "describe a network in eval mode: training mode would advance the ",
              "spectral norms' power iteration and describe another network than predict runs");
  int h = x;
  for (size_t s = 0; s < stages_.size(); ++s) {
    for (const auto& [block, label] : stages_[s]) {
      // The names the blocks are registered (and checkpointed) under.
      const auto name = s == 0 ? std::string("stem") : block_module_name(label);
      h = block->describe(graph, h, scope + name);
    }
    if (s > 0 && stage_outputs != nullptr) stage_outputs->push_back(h);
  }
  return h;
}

InferenceGraph NetworkImpl::inference_graph(const InputNormalization& input) {
  TORCH_CHECK(!fc_.is_empty(), "this network has no classifier head to export");
  check_input_channels(input, config_.in_channels);
  torch::NoGradGuard no_grad;
  InferenceGraph graph;
  int h =
      describe_stages(graph, graph.add_normalization(input, static_cast<int>(config_.dims)), "");
  if (config_.is_revup()) h = graph.add({InferenceOpKind::kRelu, {h}, {}, {}, "head"});
  h = graph.add({InferenceOpKind::kGlobalAvgPool, {h}, {}, {}, "pool"});
  graph.add({InferenceOpKind::kLinear,
             {h},
             {graph.add_tensor("fc.weight", fc_->weight), graph.add_tensor("fc.bias", fc_->bias)},
             {},
             "fc"});
  return graph;
}

void check_input_channels(const InputNormalization& input, int64_t channels) {
  if (!input.empty() && static_cast<int64_t>(input.mean.size()) != channels) {
    throw std::invalid_argument("normalization statistics for " +
                                std::to_string(input.mean.size()) +
                                " channels, but the model takes " + std::to_string(channels));
  }
}

std::vector<RevUpBlock> NetworkImpl::invertible_blocks() const { return invertible_; }

int NetworkImpl::residual_block_count() const {
  int n = 0;
  for (size_t s = 1; s < stages_.size(); ++s) n += static_cast<int>(stages_[s].size());
  return n;
}

std::vector<torch::Tensor> NetworkImpl::scalar_parameters() const {
  return revup::scalar_parameters(*this);
}

std::vector<torch::Tensor> NetworkImpl::weight_parameters() const {
  return revup::weight_parameters(*this);
}

TrainableModel trainable(Network net) {
  return {net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward(x); },
          weight_parameters(*net), scalar_parameters(*net)};
}

}  // namespace revup
