#include "core/torchscript_export.h"

#include <cctype>
#include <set>
#include <sstream>
#include <stdexcept>

namespace revup {
namespace {

std::string value(int v) { return "v" + std::to_string(v); }

std::string int_pair(int64_t i) { return "[" + std::to_string(i) + ", " + std::to_string(i) + "]"; }

std::string attribute(const std::string& tensor_name) {
  return "self." + torchscript_name(tensor_name);
}

// One op as a TorchScript expression. Only aten builtins: Python's
// torch.nn.functional does not exist for a module compiled from C++, and the
// aten op each line calls is the one the C++ model's forward calls.
std::string expression(const InferenceOp& op) {
  const auto in = [&](size_t i) { return value(op.inputs.at(i)); };
  const auto t = [&](size_t i) { return attribute(op.tensors.at(i)); };
  switch (op.kind) {
    case InferenceOpKind::kNormalize:
      // float32 input - float64 statistics promotes to float64 exactly, as
      // io's normalize computes; dtype 6 is torch.float32 (no dtype names here).
      return "((" + in(0) + " - " + t(0) + ") / " + t(1) + ").to(6)";
    case InferenceOpKind::kConv2d:
      return "torch.conv2d(" + in(0) + ", " + t(0) + ", " +
             (op.tensors.size() > 1 ? t(1) : "None") + ", " + int_pair(op.ints.at(0)) + ", " +
             int_pair(op.ints.at(1)) + ")";
    case InferenceOpKind::kAddTensor:
      return in(0) + " + " + t(0);
    case InferenceOpKind::kAdd:
      return in(0) + " + " + in(1);
    case InferenceOpKind::kRelu:
      return "torch.relu(" + in(0) + ")";
    case InferenceOpKind::kMaxPool2d:
      return "torch.max_pool2d(" + in(0) + ", " + int_pair(op.ints.at(0)) + ", " +
             int_pair(op.ints.at(1)) + ", " + int_pair(op.ints.at(2)) + ")";
    case InferenceOpKind::kPadChannels:
      return "torch.constant_pad_nd(" + in(0) + ", [0, 0, 0, 0, 0, " +
             std::to_string(op.ints.at(0)) + " - " + in(0) + ".size(1)], 0.0)";
    case InferenceOpKind::kGlobalAvgPool:
      return "torch.flatten(torch.adaptive_avg_pool2d(" + in(0) + ", [1, 1]), 1)";
    case InferenceOpKind::kLinear:
      return "torch.linear(" + in(0) + ", " + t(0) + ", " + t(1) + ")";
    case InferenceOpKind::kResizeBilinear:
      return "torch.upsample_bilinear2d(" + in(0) + ", [" + in(1) + ".size(2), " + in(1) +
             ".size(3)], False, None, None)";
  }
  throw std::logic_error("unknown inference op");
}

}  // namespace

std::string torchscript_name(const std::string& tensor_name) {
  std::string name = tensor_name;
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

std::string torchscript_source(const InferenceGraph& graph) {
  std::ostringstream src;
  src << "def forward(self, " << value(InferenceGraph::kInput) << ": Tensor) -> Tensor:\n";
  const auto& ops = graph.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    src << "    " << value(static_cast<int>(i) + 1) << " = " << expression(ops[i]) << "  # "
        << ops[i].scope << "\n";
  }
  src << "    return " << value(graph.output()) << "\n";
  return src.str();
}

torch::jit::Module to_torchscript(const InferenceGraph& graph) {
  torch::jit::Module module("__torch__.revup.RevUpInference");
  // eval()/train() and Python's nn.Module view of a scripted module expect it.
  module.register_attribute("training", c10::BoolType::get(), false);
  std::set<std::string> names;
  for (const auto& [name, tensor] : graph.tensors()) {
    const auto attr = torchscript_name(name);
    if (!names.insert(attr).second) {
      throw std::logic_error("torchscript export: two tensors map to the name '" + attr + "'");
    }
    module.register_parameter(attr, tensor, /*is_buffer=*/false);
  }
  const auto source = torchscript_source(graph);
  try {
    module.define(source);
  } catch (const c10::Error& e) {
    throw std::runtime_error("torchscript export: the generated forward does not compile (" +
                             std::string(e.what_without_backtrace()) + ")\n" + source);
  }
  return module;
}

}  // namespace revup
