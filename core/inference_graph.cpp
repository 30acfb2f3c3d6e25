#include "core/inference_graph.h"

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
  }
  throw std::logic_error("unknown inference op");
}

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

int InferenceGraph::add_normalization(const InputNormalization& input) {
  if (input.empty()) return kInput;
  if (input.std.size() != input.mean.size()) {
    throw std::invalid_argument("input normalization: " + std::to_string(input.mean.size()) +
                                " means but " + std::to_string(input.std.size()) + " stds");
  }
  for (double s : input.std) {
    if (!(s > 0)) throw std::invalid_argument("input normalization: std must be > 0");
  }
  const auto channels = static_cast<int64_t>(input.mean.size());
  const auto stat = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::kFloat64).reshape({1, channels, 1, 1});
  };
  return add(
      {InferenceOpKind::kNormalize,
       {kInput},
       {add_tensor("input.mean", stat(input.mean)), add_tensor("input.std", stat(input.std))},
       {},
       "input"});
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
      case InferenceOpKind::kConv2d:
        y = torch::conv2d(a, t(0), op.tensors.size() > 1 ? t(1) : torch::Tensor(), op.ints.at(0),
                          op.ints.at(1));
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
      case InferenceOpKind::kPadChannels:
        y = torch::constant_pad_nd(a, {0, 0, 0, 0, 0, op.ints.at(0) - a.size(1)});
        break;
      case InferenceOpKind::kGlobalAvgPool:
        y = torch::adaptive_avg_pool2d(a, {1, 1}).flatten(1);
        break;
      case InferenceOpKind::kLinear:
        y = torch::linear(a, t(0), t(1));
        break;
      case InferenceOpKind::kResizeBilinear: {
        const auto& ref = v[static_cast<size_t>(op.inputs.at(1))];
        y = torch::upsample_bilinear2d(a, {ref.size(2), ref.size(3)}, /*align_corners=*/false);
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
