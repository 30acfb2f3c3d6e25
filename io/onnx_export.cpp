#include "io/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <fstream>
#include <set>
#include <stdexcept>

#include "core/model_export.h"

namespace revup {
namespace {

using Shape = std::vector<int64_t>;

// ONNX 1.6's IR, the one that came with opset 11.
constexpr int64_t kOnnxIrVersion = 6;

// The graph under construction: values named by number ("input", "v1", ...,
// "output"), every baked tensor a float32 initializer under its own name.
class OnnxGraphBuilder {
 public:
  OnnxGraphBuilder(const InferenceGraph& graph, onnx::GraphProto* proto)
      : graph_(graph), proto_(proto) {}

  std::string value(int v) const {
    if (v == InferenceGraph::kInput) return kOnnxInputName;
    if (v == graph_.output()) return kOnnxOutputName;
    return "v" + std::to_string(v);
  }

  // The graph's tensor as an initializer, added once however often it is read.
  std::string tensor(const std::string& name) {
    if (added_.insert(name).second) add_float(name, graph_.tensor(name));
    return name;
  }

  std::string add_float(const std::string& name, const torch::Tensor& t) {
    const auto f = t.to(torch::kFloat32).contiguous();
    auto* init = proto_->add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : f.sizes()) init->add_dims(d);
    // raw_data is little-endian, as x86 and ARM hold floats.
    init->set_raw_data(std::string(static_cast<const char*>(f.data_ptr()), f.nbytes()));
    return name;
  }

  std::string add_int64(const std::string& name, const Shape& values) {
    auto* init = proto_->add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto_DataType_INT64);
    init->add_dims(static_cast<int64_t>(values.size()));
    for (auto v : values) init->add_int64_data(v);
    return name;
  }

  onnx::NodeProto* node(const std::string& type, const std::vector<std::string>& inputs,
                        const std::string& output, const std::string& scope) {
    auto* n = proto_->add_node();
    n->set_op_type(type);
    n->set_name(scope + "/" + output);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }

 private:
  const InferenceGraph& graph_;
  onnx::GraphProto* proto_;
  std::set<std::string> added_;
};

void set_ints(onnx::NodeProto* n, const std::string& name, const Shape& values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (auto v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto* n, const std::string& name, int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}

void set_string(onnx::NodeProto* n, const std::string& name, const std::string& value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_STRING);
  a->set_s(value);
}

void set_float_tensor_type(onnx::ValueInfoProto* info, const std::string& name,
                           const Shape& shape) {
  info->set_name(name);
  auto* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  for (auto d : shape) type->mutable_shape()->add_dim()->set_dim_value(d);
}

// One graph op as ONNX nodes that write value `v`; `shapes` holds every
// value's static shape for the export's input.
void add_op(OnnxGraphBuilder& b, const InferenceGraph& graph, const InferenceOp& op, int v,
            const std::vector<Shape>& shapes) {
  const auto out = b.value(v);
  const auto in = [&](size_t i) { return b.value(op.inputs.at(i)); };
  const auto t = [&](size_t i) { return b.tensor(op.tensors.at(i)); };
  const auto square = [](int64_t i) { return Shape{i, i}; };
  const auto all_sides = [](int64_t p) { return Shape{p, p, p, p}; };
  switch (op.kind) {
    case InferenceOpKind::kNormalize:
      // In float32: the float64 statistics rounded to float32 move a
      // normalized value by ~1e-7, far below the tolerance.
      b.node("Sub", {in(0), t(0)}, out + ".centered", op.scope);
      b.node("Div", {out + ".centered", t(1)}, out, op.scope);
      return;
    case InferenceOpKind::kConv2d: {
      const auto weight = graph.tensor(op.tensors.at(0)).sizes();
      std::vector<std::string> inputs{in(0), t(0)};
      if (op.tensors.size() > 1) inputs.push_back(t(1));
      auto* n = b.node("Conv", inputs, out, op.scope);
      set_ints(n, "kernel_shape", {weight[2], weight[3]});
      set_ints(n, "strides", conv_strides(op));
      set_ints(n, "pads", all_sides(conv_padding(op)));
      set_ints(n, "dilations", {1, 1});
      set_int(n, "group", 1);
      return;
    }
    case InferenceOpKind::kAddTensor:
      b.node("Add", {in(0), t(0)}, out, op.scope);
      return;
    case InferenceOpKind::kAdd:
      b.node("Add", {in(0), in(1)}, out, op.scope);
      return;
    case InferenceOpKind::kRelu:
      b.node("Relu", {in(0)}, out, op.scope);
      return;
    case InferenceOpKind::kMaxPool2d: {
      // Padding with -inf, floor mode: as torch::max_pool2d.
      auto* n = b.node("MaxPool", {in(0)}, out, op.scope);
      set_ints(n, "kernel_shape", square(op.ints.at(0)));
      set_ints(n, "strides", square(op.ints.at(1)));
      set_ints(n, "pads", all_sides(op.ints.at(2)));
      return;
    }
    case InferenceOpKind::kPadChannels: {
      // Pad (zeros after the channels) rather than Concat with a zero
      // initializer, which would store H x W zeros per channel in the file.
      const auto extra = op.ints.at(0) - shapes.at(static_cast<size_t>(op.inputs.at(0))).at(1);
      const auto pads = b.add_int64(out + ".pads", {0, 0, 0, 0, 0, extra, 0, 0});
      auto* n = b.node("Pad", {in(0), pads}, out, op.scope);
      set_string(n, "mode", "constant");
      return;
    }
    case InferenceOpKind::kGlobalAvgPool: {
      b.node("GlobalAveragePool", {in(0)}, out + ".pooled", op.scope);
      auto* n = b.node("Flatten", {out + ".pooled"}, out, op.scope);
      set_int(n, "axis", 1);
      return;
    }
    case InferenceOpKind::kLinear: {
      auto* n = b.node("Gemm", {in(0), t(0), t(1)}, out, op.scope);
      set_int(n, "transB", 1);  // x W^T + b, W as torch::linear holds it ([out, in])
      return;
    }
    case InferenceOpKind::kResizeBilinear: {
      // To the reference value's size, as a number (opset 11: roi and
      // scales given empty when sizes is). half_pixel is PyTorch's
      // align_corners = false for every output longer than one pixel.
      const auto& ref = shapes.at(static_cast<size_t>(op.inputs.at(1)));
      const auto& src = shapes.at(static_cast<size_t>(op.inputs.at(0)));
      const auto empty = torch::empty({0});
      const auto roi = b.add_float(out + ".roi", empty);
      const auto scales = b.add_float(out + ".scales", empty);
      const auto sizes = b.add_int64(out + ".sizes", {src.at(0), src.at(1), ref.at(2), ref.at(3)});
      auto* n = b.node("Resize", {in(0), roi, scales, sizes}, out, op.scope);
      set_string(n, "mode", "linear");
      set_string(n, "coordinate_transformation_mode", "half_pixel");
      return;
    }
    case InferenceOpKind::kConv3d:
    case InferenceOpKind::kMaxPool3d:
    case InferenceOpKind::kResizeTrilinear:
    case InferenceOpKind::kNormalizePerImage:
      // write_export refuses 3D graphs (the only ones normalized per image)
      // for a writer without `volumes`.
      break;
  }
  throw std::logic_error(std::string("onnx export: no ONNX for op ") + op_name(op.kind) + " in " +
                         op.scope);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw std::runtime_error(path + ": write failed (disk full or no permission?)");
}

// OpenCV's thread count for one call, then back to what it was.
class OpenCvThreads {
 public:
  explicit OpenCvThreads(int n) : previous_(cv::getNumThreads()) { cv::setNumThreads(n); }
  ~OpenCvThreads() { cv::setNumThreads(previous_); }
  OpenCvThreads(const OpenCvThreads&) = delete;
  OpenCvThreads& operator=(const OpenCvThreads&) = delete;

 private:
  int previous_;
};

}  // namespace

std::string onnx_model_bytes(const InferenceGraph& graph, const std::vector<int64_t>& input_shape,
                             const nlohmann::json& model_card) {
  if (graph.ops().empty()) throw std::invalid_argument("onnx export: the graph has no ops");
  if (input_shape.size() != 4) {
    throw std::invalid_argument("onnx export: the input must be [N, C, H, W], got " +
                                c10::str(c10::IntArrayRef(input_shape)));
  }
  const auto shapes = graph.value_shapes(input_shape);

  onnx::ModelProto model;
  model.set_ir_version(kOnnxIrVersion);
  model.set_producer_name("RevUp Studio");
  if (model_card.contains("tool")) {
    model.set_producer_version(model_card["tool"].value("version", std::string()));
  }
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  auto* card = model.add_metadata_props();
  card->set_key("model_card");
  card->set_value(model_card.dump());

  auto* proto = model.mutable_graph();
  proto->set_name("revup_inference");
  set_float_tensor_type(proto->add_input(), kOnnxInputName, input_shape);
  OnnxGraphBuilder builder(graph, proto);
  const auto& ops = graph.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    add_op(builder, graph, ops[i], static_cast<int>(i) + 1, shapes);
  }
  set_float_tensor_type(proto->add_output(), kOnnxOutputName, shapes.back());

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("onnx export: the ONNX checker refuses the model: ") +
                             e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    // protobuf's limit: 2 GiB per message, initializers included.
    throw std::runtime_error("onnx export: the model could not be serialized (over 2 GiB?)");
  }
  return bytes;
}

void check_onnx_file(const std::string& path) {
  try {
    onnx::checker::check_model(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": the ONNX checker refuses it: " + e.what());
  }
}

torch::Tensor run_onnx_with_opencv(const std::string& path, const torch::Tensor& input) {
  OpenCvThreads threads(torch::get_num_threads());
  try {
    auto net = cv::dnn::readNetFromONNX(path);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    auto x = input.to(torch::kFloat32).contiguous();
    const std::vector<int> sizes(x.sizes().begin(), x.sizes().end());
    const cv::Mat blob(static_cast<int>(sizes.size()), sizes.data(), CV_32F, x.data_ptr());
    net.setInput(blob, kOnnxInputName);
    const cv::Mat out = net.forward(kOnnxOutputName);
    if (out.type() != CV_32F || !out.isContinuous()) {
      throw std::runtime_error("OpenCV's DNN gave a non-float32 output");
    }
    const std::vector<int64_t> out_sizes(out.size.p, out.size.p + out.dims);
    return torch::from_blob(const_cast<float*>(out.ptr<float>()), out_sizes, torch::kFloat32)
        .clone();
  } catch (const cv::Exception& e) {
    throw std::runtime_error(path + ": OpenCV's DNN cannot read or run it: " + e.what());
  }
}

void register_onnx_export() {
  ExportWriter writer;
  writer.reader = "cv::dnn::readNetFromONNX (OpenCV " CV_VERSION ")";
  writer.tolerance = kOnnxTolerance;
  writer.needs_input_size = true;
  writer.details = {{"opset", kOnnxOpset},
                    {"ir_version", kOnnxIrVersion},
                    {"checker", "onnx::checker::check_model (ONNX library)"},
                    {"input_name", kOnnxInputName},
                    {"output_name", kOnnxOutputName}};
  writer.write_and_run = [](const InferenceGraph& graph, const std::string& file,
                            const nlohmann::json& card, const torch::Tensor& input) {
    write_file(file, onnx_model_bytes(graph, input.sizes().vec(), card));
    check_onnx_file(file);  // what is on disk, not only what was in memory
    return run_onnx_with_opencv(file, input);
  };
  register_export_writer(ExportFormat::kOnnx, std::move(writer));
}

}  // namespace revup
