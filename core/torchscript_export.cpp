#include "core/torchscript_export.h"

#include <cctype>
#include <set>
#include <sstream>
#include <stdexcept>

namespace revup {
namespace {

std::string value(int v) { return "v" + std::to_string(v); }

std::string int_list(const std::vector<int64_t>& ints) {
  std::string s = "[";
  for (size_t i = 0; i < ints.size(); ++i) s += (i ? ", " : "") + std::to_string(ints[i]);
  return s + "]";
}

// One value per spatial axis: [i, i] or [i, i, i].
std::string per_axis(int64_t i, int axes) {
  return int_list(std::vector<int64_t>(static_cast<size_t>(axes), i));
}

std::string int_pair(int64_t i) { return per_axis(i, 2); }

std::string convolution(const std::string& aten, const std::string& in, const InferenceOp& op,
                        const std::string& weight, const std::string& bias) {
  return "torch." + aten + "(" + in + ", " + weight + ", " + bias + ", " +
         int_list(conv_strides(op)) + ", " + per_axis(conv_padding(op), spatial_axes(op)) + ")";
}

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
    case InferenceOpKind::kConv3d:
      return convolution(op.kind == InferenceOpKind::kConv3d ? "conv3d" : "conv2d", in(0), op, t(0),
                         op.tensors.size() > 1 ? t(1) : "None");
    case InferenceOpKind::kAddTensor:
      return in(0) + " + " + t(0);
    case InferenceOpKind::kAdd:
      return in(0) + " + " + in(1);
    case InferenceOpKind::kRelu:
      return "torch.relu(" + in(0) + ")";
    case InferenceOpKind::kMaxPool2d:
      return "torch.max_pool2d(" + in(0) + ", " + int_pair(op.ints.at(0)) + ", " +
             int_pair(op.ints.at(1)) + ", " + int_pair(op.ints.at(2)) + ")";
    case InferenceOpKind::kMaxPool3d:
      return "torch.max_pool3d(" + in(0) + ", " + per_axis(op.ints.at(0), 3) + ", " +
             per_axis(op.ints.at(1), 3) + ", " + per_axis(op.ints.at(2), 3) + ")";
    case InferenceOpKind::kPadChannels: {
      // Zero before and after every spatial axis, then the channels' end.
      std::string zeros;
      for (int i = 0; i < spatial_axes(op); ++i) zeros += "0, 0, ";
      return "torch.constant_pad_nd(" + in(0) + ", [" + zeros + "0, " +
             std::to_string(op.ints.at(0)) + " - " + in(0) + ".size(1)], 0.0)";
    }
    case InferenceOpKind::kGlobalAvgPool:
      // The rank is known at export time only through the graph's ops; the
      // flatten-then-mean form is the same for [N, C, H, W] and [N, C, D, H, W].
      return "torch.mean(torch.flatten(" + in(0) + ", 2), [2])";
    case InferenceOpKind::kLinear:
      return "torch.linear(" + in(0) + ", " + t(0) + ", " + t(1) + ")";
    case InferenceOpKind::kResizeBilinear:
      return "torch.upsample_bilinear2d(" + in(0) + ", [" + in(1) + ".size(2), " + in(1) +
             ".size(3)], False, None, None)";
    case InferenceOpKind::kNormalizePerImage:
      break;  // statements of its own (per_image_statements)
    case InferenceOpKind::kResizeTrilinear:
      return "torch.upsample_trilinear3d(" + in(0) + ", [" + in(1) + ".size(2), " + in(1) +
             ".size(3), " + in(1) + ".size(4)], False, None, None, None)";
  }
  throw std::logic_error("unknown inference op");
}

// kNormalizePerImage as InferenceGraph::run computes it, in float64 (dtype
// 7), one statement a step; `v` names its value.
std::string per_image_statements(const InferenceOp& op, const std::string& v) {
  std::vector<int64_t> axes;
  for (int64_t d = 2; d < 2 + spatial_axes(op); ++d) axes.push_back(d);
  const auto in = value(op.inputs.at(0)), dims = int_list(axes);
  return "    " + v + "_x = " + in + ".to(7)\n" +                                //
         "    " + v + "_mean = torch.mean(" + v + "_x, " + dims + ", True)\n" +  //
         "    " + v + "_sd = torch.sqrt(torch.clamp_min(torch.mean(torch.square(" + v + "_x), " +
         dims + ", True) - torch.square(" + v + "_mean), 0.0))\n" + "    " + v +
         "_sd = torch.where(torch.gt(" + v + "_sd, torch.clamp_min(torch.abs(" + v +
         "_mean), 1.0) * 1e-6), " + v + "_sd, torch.ones_like(" + v + "_sd))\n" + "    " + v +
         " = ((" + v + "_x - " + v + "_mean) / " + v + "_sd).to(6)  # " + op.scope + "\n";
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
    const auto v = value(static_cast<int>(i) + 1);
    if (ops[i].kind == InferenceOpKind::kNormalizePerImage) {
      src << per_image_statements(ops[i], v);
      continue;
    }
    src << "    " << v << " = " << expression(ops[i]) << "  # " << ops[i].scope << "\n";
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
