#pragma once
// A trained network as exporters see it: a straight list of plain tensor
// operations with every tensor baked, as the network computes in eval mode.
//
// Models emit it (they know their blocks); exporters (TorchScript, weights,
// later ONNX) only translate it, so none of them guesses a graph from code and
// all of them compute the same thing. What training needs and inference does
// not is gone: spectral normalization is applied to the weights once (the
// weights as the eval forward uses them), Fixup's scalars are folded where that
// is exact, and no fixed point is ever run (inference is the forward pass).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace revup {

enum class InferenceOpKind {
  kNormalize,       // (x - mean) / std per channel in float64, back to float32
  kConv2d,          // tensors: weight[, bias]; ints: stride, padding
  kAddTensor,       // x + t, t broadcast (a scalar bias a conv cannot absorb)
  kAdd,             // a + b (residual sums, decoder fusion)
  kRelu,            //
  kMaxPool2d,       // ints: kernel, stride, padding
  kPadChannels,     // zero channels appended up to ints[0]
  kGlobalAvgPool,   // [N, C, H, W] -> [N, C]
  kLinear,          // tensors: weight, bias
  kResizeBilinear,  // a to b's height and width, align_corners = false
};

const char* op_name(InferenceOpKind kind);

// Per-channel statistics of the training inputs; an exported graph that starts
// with them takes raw pixel values. Empty: the graph takes normalized inputs.
struct InputNormalization {
  std::vector<double> mean, std;
  bool empty() const { return mean.empty(); }
};

// Values are numbered: 0 is the graph's input, op i produces value i + 1.
struct InferenceOp {
  InferenceOpKind kind;
  std::vector<int> inputs;
  std::vector<std::string> tensors;  // names in InferenceGraph::tensors
  std::vector<int64_t> ints;
  std::string scope;  // the layer it came from, for messages and readers
};

class InferenceGraph {
 public:
  // Stores a detached, contiguous copy (nothing of training's storage or
  // graph travels into an export); names are unique, dotted like a state dict.
  const std::string& add_tensor(const std::string& name, const torch::Tensor& tensor);
  // Appends an op reading existing values; returns the value it produces.
  int add(InferenceOp op);
  // The normalize op on the input (a no-op when `input` is empty); returns its value.
  int add_normalization(const InputNormalization& input);

  static constexpr int kInput = 0;
  int output() const { return static_cast<int>(ops_.size()); }
  const std::vector<InferenceOp>& ops() const { return ops_; }
  const std::vector<std::pair<std::string, torch::Tensor>>& tensors() const { return tensors_; }
  const torch::Tensor& tensor(const std::string& name) const;

  // Reference interpreter: what every exporter must reproduce.
  torch::Tensor run(const torch::Tensor& input) const;
  // Every value (input first), as `run` computes them.
  std::vector<torch::Tensor> run_values(const torch::Tensor& input) const;
  // Every value's shape for an input of `input_shape`: formats with static
  // shapes (ONNX for OpenCV) need a resize's target size as a number.
  std::vector<std::vector<int64_t>> value_shapes(const std::vector<int64_t>& input_shape) const;

  // The ops with tensor names and shapes (not their values): enough, with the
  // weights, to rebuild the network in any framework.
  nlohmann::json to_json() const;

 private:
  std::vector<InferenceOp> ops_;
  std::vector<std::pair<std::string, torch::Tensor>> tensors_;
};

}  // namespace revup
