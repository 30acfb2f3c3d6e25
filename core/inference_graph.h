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
  kConv2d,          // tensors: weight[, bias]; ints: stride, padding, or a stride per
                    // axis then padding (stride_h, stride_w, padding)
  kAddTensor,       // x + t, t broadcast (a scalar bias a conv cannot absorb)
  kAdd,             // a + b (residual sums, decoder fusion)
  kRelu,            //
  kMaxPool2d,       // ints: kernel, stride, padding
  kPadChannels,     // zero channels appended up to ints[0]; ints[1]: spatial axes (2 if absent)
  kGlobalAvgPool,   // [N, C, H, W] (or [N, C, D, H, W]) -> [N, C]
  kLinear,          // tensors: weight, bias
  kResizeBilinear,  // a to b's height and width, align_corners = false
  // Volumes ([N, C, D, H, W]); kAddTensor, kAdd, kRelu, kPadChannels and
  // kGlobalAvgPool take any number of spatial axes.
  kConv3d,           // as kConv2d, over three axes (stride_d, stride_h, stride_w, padding)
  kMaxPool3d,        // ints: kernel, stride, padding
  kResizeTrilinear,  // a to b's depth, height and width, align_corners = false
  // Each input by its own per-channel mean and (population) std over its
  // spatial axes, in float64 (io's per-image normalization of volumes; a std
  // below 1e-6 max(1, |mean|) counts as 1), back to float32.
  kNormalizePerImage,
};

const char* op_name(InferenceOpKind kind);
// kConv2d or kConv3d for `dims` spatial axes.
InferenceOpKind conv_op(int64_t dims);

// Per-channel statistics of the training inputs; an exported graph that starts
// with them takes raw pixel values. Empty: the graph takes normalized inputs.
struct InputNormalization {
  std::vector<double> mean, std;
  // Each input by its own statistics (whole volumes: scans differ in scale);
  // mean and std are then the training data's, for the record.
  bool per_image = false;
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

// The number of spatial axes an op works on (2 unless it is one of the 3D ops
// or says so: kPadChannels' ints[1]).
int spatial_axes(const InferenceOp& op);
// A conv op's strides, one per spatial axis (ints hold one for all, or one each).
std::vector<int64_t> conv_strides(const InferenceOp& op);
int64_t conv_padding(const InferenceOp& op);

class InferenceGraph {
 public:
  // Stores a detached, contiguous copy (nothing of training's storage or
  // graph travels into an export); names are unique, dotted like a state dict.
  const std::string& add_tensor(const std::string& name, const torch::Tensor& tensor);
  // Appends an op reading existing values; returns the value it produces.
  int add(InferenceOp op);
  // The normalize op on an input with `dims` spatial axes (a no-op when
  // `input` is empty); returns its value.
  int add_normalization(const InputNormalization& input, int dims = 2);

  // 3 when any op works on volumes, else 2: the input's spatial axes.
  int spatial_dims() const;

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
