#pragma once
// ONNX export: an InferenceGraph as an ONNX model (built with the ONNX
// library's protobuf classes, checked with its checker), and OpenCV's DNN
// module as the consumer that reads it back. Built only when libonnx-dev and
// OpenCV's dnn module are found (REVUP_WITH_ONNX); core never sees either and
// reaches this writer through its export registry (core/model_export.h).
//
// Opset 11: every op used here in the form OpenCV 4.6's importer reads
// (Resize with its sizes as a constant input, Pad with its pads as one, Gemm,
// Flatten), and old enough for most runtimes in the field. The model is for
// one fixed [1, C, H, W] input: OpenCV's importer wants static shapes, and a
// resize's target size is written as a number.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/inference_graph.h"

namespace revup {

constexpr int64_t kOnnxOpset = 11;
// OpenCV's kernels sum in another order than LibTorch's (and fuse a bias or a
// ReLU into a convolution); float32 rounding of that is ~1e-6 on these outputs,
// a wrong op or a misread attribute >= 1e-2.
constexpr double kOnnxTolerance = 1e-4;
constexpr const char* kOnnxInputName = "input";
constexpr const char* kOnnxOutputName = "output";

// The serialized ModelProto for an input of `input_shape` ({1, C, H, W}),
// passed through onnx::checker::check_model. `model_card` (JSON) travels in
// the model's metadata as "model_card". Throws std::runtime_error for a graph
// the checker refuses.
std::string onnx_model_bytes(const InferenceGraph& graph, const std::vector<int64_t>& input_shape,
                             const nlohmann::json& model_card);

// onnx::checker::check_model on a file; throws std::runtime_error naming it.
void check_onnx_file(const std::string& path);

// Reads `path` with cv::dnn::readNetFromONNX and runs it on `input` (float32,
// NCHW), on OpenCV's own CPU backend with torch::get_num_threads() threads.
torch::Tensor run_onnx_with_opencv(const std::string& path, const torch::Tensor& input);

// Registers the "onnx" format's writer with core's export registry: writes
// the model, checks it, reads it back with OpenCV and runs it. Call once at
// start-up (the CLI's export command, the GUI's export dialog).
void register_onnx_export();

}  // namespace revup
