#include "core/inference_graph.h"

#include <algorithm>
#include <stdexcept>

namespace revup {

const char* op_name(InferenceOpKind kind) {
  switch (kind) {
    case InferenceOpKind::kNormalize:
      return "normalize";
    case InferenceOpKind::kConv2d:
      return "conv2d";
    case InferenceOpKind::kAddTensor:
      return "add_tensor";
    case InferenceOpKind::kAdd:
      return "add";
    case InferenceOpKind::kRelu:
      return "relu";
    case InferenceOpKind::kMaxPool2d:
      return "max_pool2d";
    case InferenceOpKind::kPadChannels:
      return "pad_channels";
    case InferenceOpKind::kGlobalAvgPool:
      return "global_avg_pool";
    case InferenceOpKind::kLinear:
      return "linear";
    case InferenceOpKind::kResizeBilinear:
      return "resize_bilinear";
    case InferenceOpKind::kConv3d:
      return "conv3d";
    case InferenceOpKind::kMaxPool3d:
      return "max_pool3d";
    case InferenceOpKind::kResizeTrilinear:
      return "resize_trilinear";
    case InferenceOpKind::kNormalizePerImage:
      return "normalize_per_image";
  }
  throw std::logic_error("unknown inference op");
}

InferenceOpKind conv_op(int64_t dims) {
  if (dims != 2 && dims != 3) {
    throw std::invalid_argument("inference graph: convolutions over " + std::to_string(dims) +
                                " axes (2 or 3)");
  }
  return dims == 3 ? InferenceOpKind::kConv3d : InferenceOpKind::kConv2d;
}

int spatial_axes(const InferenceOp& op) {
  switch (op.kind) {
    case InferenceOpKind::kConv3d:
    case InferenceOpKind::kMaxPool3d:
    case InferenceOpKind::kResizeTrilinear:
      return 3;
    case InferenceOpKind::kPadChannels:
      return op.ints.size() > 1 ? static_cast<int>(op.ints[1]) : 2;
    case InferenceOpKind::kNormalizePerImage:
      return static_cast<int>(op.ints.at(0));
    default:
      return 2;
  }
}

std::vector<int64_t> conv_strides(const InferenceOp& op) {
  const auto axes = static_cast<size_t>(spatial_axes(op));
  if (op.ints.size() == 2) return std::vector<int64_t>(axes, op.ints[0]);
  if (op.ints.size() != axes + 1) {
    throw std::logic_error("inference graph: conv '" + op.scope + "' has " +
                           std::to_string(op.ints.size()) + " ints");
  }
  return {op.ints.begin(), op.ints.end() - 1};
}

int64_t conv_padding(const InferenceOp& op) { return op.ints.back(); }

const std::string& InferenceGraph::add_tensor(const std::string& name,
                                              const torch::Tensor& tensor) {
  for (const auto& [existing, unused] : tensors_) {
    if (existing == name) throw std::logic_error("inference graph: tensor '" + name + "' twice");
  }
  tensors_.emplace_back(name, tensor.detach().contiguous().clone());
  return tensors_.back().first;
}

int InferenceGraph::add(InferenceOp op) {
  for (int v : op.inputs) {
    if (v < 0 || v > output()) {
      throw std::logic_error("inference graph: op '" + op.scope + "' reads value " +
                             std::to_string(v) + " before it exists");
    }
  }
  for (const auto& name : op.tensors) tensor(name);  // must exist
  ops_.push_back(std::move(op));
  return output();
}

int InferenceGraph::add_normalization(const InputNormalization& input, int dims) {
  if (input.empty()) return kInput;
  if (input.std.size() != input.mean.size()) {
    throw std::invalid_argument("input normalization: " + std::to_string(input.mean.size()) +
                                " means but " + std::to_string(input.std.size()) + " stds");
  }
  for (double s : input.std) {
    if (!(s > 0)) throw std::invalid_argument("input normalization: std must be > 0");
  }
  if (input.per_image) {
    return add({InferenceOpKind::kNormalizePerImage, {kInput}, {}, {dims}, "input"});
  }
  const auto channels = static_cast<int64_t>(input.mean.size());
  const auto stat = [&](const std::vector<double>& v) {
    std::vector<int64_t> shape(static_cast<size_t>(2 + dims), 1);
    shape[1] = channels;
    return torch::tensor(v, torch::kFloat64).reshape(shape);
  };
  return add(
      {InferenceOpKind::kNormalize,
       {kInput},
       {add_tensor("input.mean", stat(input.mean)), add_tensor("input.std", stat(input.std))},
       {},
       "input"});
}

int InferenceGraph::spatial_dims() const {
  int dims = 2;
  for (const auto& op : ops_) dims = std::max(dims, spatial_axes(op));
  return dims;
}

const torch::Tensor& InferenceGraph::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors_) {
    if (n == name) return t;
  }
  throw std::logic_error("inference graph: no tensor '" + name + "'");
}

torch::Tensor InferenceGraph::run(const torch::Tensor& input) const {
  return run_values(input).back();
}

std::vector<std::vector<int64_t>> InferenceGraph::value_shapes(
    const std::vector<int64_t>& input_shape) const {
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& v : run_values(torch::zeros(input_shape))) shapes.push_back(v.sizes().vec());
  return shapes;
}

std::vector<torch::Tensor> InferenceGraph::run_values(const torch::Tensor& input) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> v{input};
  for (const auto& op : ops_) {
    const auto& a = v[static_cast<size_t>(op.inputs.at(0))];
    const auto t = [&](size_t i) { return tensor(op.tensors.at(i)); };
    torch::Tensor y;
    switch (op.kind) {
      case InferenceOpKind::kNormalize:
        // float64 like io's normalize, so raw pixels give the very inputs training saw.
        y = ((a.to(torch::kFloat64) - t(0)) / t(1)).to(torch::kFloat32);
        break;
      case InferenceOpKind::kNormalizePerImage: {
        std::vector<int64_t> axes;
        for (int64_t d = 2; d < a.dim(); ++d) axes.push_back(d);
        const auto x = a.to(torch::kFloat64);
        const auto mean = x.mean(axes, /*keepdim=*/true);
        const auto sd = (x.square().mean(axes, true) - mean.square()).clamp_min(0).sqrt();
        const auto usable = sd.gt(mean.abs().clamp_min(1) * 1e-6);
        y = ((x - mean) / torch::where(usable, sd, torch::ones_like(sd))).to(torch::kFloat32);
        break;
      }
      case InferenceOpKind::kConv2d:
        y = torch::conv2d(a, t(0), op.tensors.size() > 1 ? t(1) : torch::Tensor(), conv_strides(op),
                          conv_padding(op));
        break;
      case InferenceOpKind::kConv3d:
        y = torch::conv3d(a, t(0), op.tensors.size() > 1 ? t(1) : torch::Tensor(), conv_strides(op),
                          conv_padding(op));
        break;
      case InferenceOpKind::kAddTensor:
        y = a + t(0);
        break;
      case InferenceOpKind::kAdd:
        y = a + v[static_cast<size_t>(op.inputs.at(1))];
        break;
      case InferenceOpKind::kRelu:
        y = torch::relu(a);
        break;
      case InferenceOpKind::kMaxPool2d:
        y = torch::max_pool2d(a, op.ints.at(0), op.ints.at(1), op.ints.at(2));
        break;
      case InferenceOpKind::kMaxPool3d:
        y = torch::max_pool3d(a, op.ints.at(0), op.ints.at(1), op.ints.at(2));
        break;
      case InferenceOpKind::kPadChannels: {
        // Zero before and after every spatial axis, then the channels' end.
        std::vector<int64_t> pad(static_cast<size_t>(2 * spatial_axes(op)), 0);
        pad.insert(pad.end(), {0, op.ints.at(0) - a.size(1)});
        y = torch::constant_pad_nd(a, pad);
        break;
      }
      case InferenceOpKind::kGlobalAvgPool:
        y = a.dim() == 5 ? torch::adaptive_avg_pool3d(a, {1, 1, 1}).flatten(1)
                         : torch::adaptive_avg_pool2d(a, {1, 1}).flatten(1);
        break;
      case InferenceOpKind::kLinear:
        y = torch::linear(a, t(0), t(1));
        break;
      case InferenceOpKind::kResizeBilinear: {
        const auto& ref = v[static_cast<size_t>(op.inputs.at(1))];
        y = torch::upsample_bilinear2d(a, {ref.size(2), ref.size(3)}, /*align_corners=*/false);
        break;
      }
      case InferenceOpKind::kResizeTrilinear: {
        const auto& ref = v[static_cast<size_t>(op.inputs.at(1))];
        y = torch::upsample_trilinear3d(a, {ref.size(2), ref.size(3), ref.size(4)},
                                        /*align_corners=*/false);
        break;
      }
    }
    v.push_back(std::move(y));
  }
  return v;
}

nlohmann::json InferenceGraph::to_json() const {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : tensors_) {
    tensors.push_back({{"name", name},
                       {"shape", t.sizes().vec()},
                       {"dtype", std::string(c10::toString(t.scalar_type()))}});
  }
  nlohmann::json ops = nlohmann::json::array();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto& op = ops_[i];
    ops.push_back({{"output", i + 1},
                   {"op", op_name(op.kind)},
                   {"inputs", op.inputs},
                   {"tensors", op.tensors},
                   {"ints", op.ints},
                   {"scope", op.scope}});
  }
  return {{"input", kInput}, {"output", output()}, {"tensors", tensors}, {"ops", ops}};
}

}  // namespace revup
