// ONNX export, checked by a consumer we did not write: the file passes the
// ONNX checker, and OpenCV's DNN module (cv::dnn::readNetFromONNX) computes
// what the LibTorch model's own eval forward computes, for classifiers of
// every stem and block kind and for a segmentation net with its bilinear
// decoder. Weights are perturbed away from Fixup's init (where g == 0 and a
// wrong branch would pass unnoticed).
//
// Tolerance 1e-4 (kOnnxTolerance): OpenCV's kernels sum in another order than
// LibTorch's and fuse biases and ReLUs into convolutions (float32 rounding,
// ~1e-6 here); a wrong op, pad or resize mode is >= 1e-2.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "../export_test_util.h"
#include "../test_util.h"
#include "core/model_export.h"
#include "io/onnx_export.h"
#include "models/network.h"
#include "models/segmentation_net.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

using testing::input_stats;
using testing::max_abs;
using testing::raw_and_normalized;
using testing::test_card;
using testing::tiny_segmentation;

struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir("revup-onnx-test") {}
};

class OnnxExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { register_onnx_export(); }
};

// write_export (checker, OpenCV read-back inside), then on our own: the ONNX
// checker on the file, and OpenCV's output against the LibTorch model's forward.
void expect_onnx_matches_forward(const InferenceGraph& graph, const ModelCard& card,
                                 const torch::Tensor& raw, const torch::Tensor& expected,
                                 const std::string& what) {
  ScratchDir dir;
  const auto path = dir.file("model.onnx");
  const auto report = write_export(graph, ExportFormat::kOnnx, path, card);
  ASSERT_NO_THROW(onnx::checker::check_model(path)) << what;
  const auto opencv = run_onnx_with_opencv(path, raw);
  torch::Tensor libtorch_graph;
  {
    torch::NoGradGuard no_grad;
    libtorch_graph = graph.run(raw);
  }
  const double diff = max_abs(opencv, expected);
  std::printf(
      "[ %s ] output %s, scale %.3g; max |OpenCV DNN - LibTorch forward| = %.3g; "
      "export's own check (random input) %.3g; max |graph - forward| = %.3g\n",
      what.c_str(), c10::str(expected.sizes()).c_str(), expected.abs().max().item<double>(), diff,
      report.max_abs_difference, max_abs(libtorch_graph, expected));
  EXPECT_LT(diff, kOnnxTolerance) << what;
  EXPECT_LT(report.max_abs_difference, kOnnxTolerance) << what;
  // Something to compare: a near-zero output would make every difference small.
  EXPECT_GT(expected.abs().max().item<double>(), 1e-1) << what;
}

struct ClassifierCase {
  std::string name;
  ModelConfig config;
};

// Every stem and block kind a classifier has: conv stem, injective stem (Pad),
// ImageNet stem (MaxPool) with bottleneck blocks, and ResNet+Fixup.
std::vector<ClassifierCase> classifier_cases() {
  std::vector<ClassifierCase> cases;
  cases.push_back({"RevUp-20 (revup-memsave)", testing::small_cifar("revup-memsave", 20)});
  cases.push_back({"ResNet-8+Fixup", testing::small_cifar("resnet-fixup", 8)});
  auto injective = testing::small_cifar("revup-memsave", 8, {8, 8, 16});
  injective.injective_stem = true;
  cases.push_back({"RevUp-8, injective stem", injective});
  ModelConfig bottleneck;
  bottleneck.arch = "revup-memsave";
  bottleneck.style = "imagenet";
  bottleneck.blocks = {2, 1};
  bottleneck.widths = {4, 8};
  bottleneck.block = "bottleneck";
  bottleneck.stem_width = 8;
  bottleneck.num_classes = 4;
  cases.push_back({"RevUp bottleneck, ImageNet stem", bottleneck});
  return cases;
}

TEST_F(OnnxExport, ClassifierOpenCvEqualsLibTorch) {
  for (const auto& c : classifier_cases()) {
    torch::manual_seed(11);
    Network net(c.config);
    testing::perturb(*net);
    net->eval();
    const auto n = input_stats(c.config.in_channels);
    const auto [raw, x] = raw_and_normalized(n, {1, c.config.in_channels, 32, 32});
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = net->forward(x);
    }
    expect_onnx_matches_forward(net->inference_graph(n),
                                test_card("classification", c.config.in_channels, n, {32, 32}), raw,
                                expected, c.name);
  }
}

TEST_F(OnnxExport, SegmentationOpenCvEqualsLibTorch) {
  // An even size and an odd one: the decoder's bilinear resizes then have
  // integer and fractional scales, and the patch stem crops.
  for (const auto& size : std::vector<std::vector<int64_t>>{{64, 96}, {45, 61}}) {
    torch::manual_seed(12);
    SegmentationNet net(tiny_segmentation());
    testing::perturb(*net);
    net->eval();
    const auto n = input_stats(3);
    const auto [raw, x] = raw_and_normalized(n, {1, 3, size[0], size[1]});
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = net->forward(x);
    }
    expect_onnx_matches_forward(
        net->inference_graph(n), test_card("segmentation", 3, n, size), raw, expected,
        "segmentation " + std::to_string(size[0]) + "x" + std::to_string(size[1]));
  }
}

TEST_F(OnnxExport, FileStatesOpsetAndCarriesTheModelCard) {
  torch::manual_seed(13);
  SegmentationNet net(tiny_segmentation());
  testing::perturb(*net);
  net->eval();
  const auto n = input_stats(3);
  ScratchDir dir;
  const auto path = dir.file("seg.onnx");
  const auto report = write_export(net->inference_graph(n), ExportFormat::kOnnx, path,
                                   test_card("segmentation", 3, n, {40, 56}));
  EXPECT_EQ(report.checked_input, (std::vector<int64_t>{1, 3, 40, 56}));
  EXPECT_EQ(report.files, (std::vector<std::string>{path, dir.file("seg.card.json")}));
  EXPECT_EQ(dir.entries(), 2u);  // no temporary folder left beside them

  onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).version(), kOnnxOpset);
  const auto& input = model.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(input.dim_size(), 4);
  EXPECT_EQ(input.dim(2).dim_value(), 40);
  EXPECT_EQ(input.dim(3).dim_value(), 56);
  ASSERT_EQ(model.metadata_props_size(), 1);
  EXPECT_EQ(model.metadata_props(0).key(), "model_card");
  EXPECT_EQ(nlohmann::json::parse(model.metadata_props(0).value())["task"], "segmentation");
  bool half_pixel_resize = false;
  for (const auto& node : model.graph().node()) {
    if (node.op_type() != "Resize") continue;
    for (const auto& a : node.attribute()) {
      if (a.name() == "coordinate_transformation_mode") half_pixel_resize = a.s() == "half_pixel";
    }
  }
  EXPECT_TRUE(half_pixel_resize);

  std::ifstream card_in(dir.file("seg.card.json"));
  const auto card = nlohmann::json::parse(card_in);
  EXPECT_EQ(card["format"], "onnx");
  EXPECT_EQ(card["input"]["size"].get<std::vector<int64_t>>(), (std::vector<int64_t>{40, 56}));
  EXPECT_EQ(card["verification"]["opset"], kOnnxOpset);
  EXPECT_NE(card["verification"]["reader"].get<std::string>().find("readNetFromONNX"),
            std::string::npos);
  EXPECT_LT(card["verification"]["max_abs_difference"].get<double>(), kOnnxTolerance);
  EXPECT_EQ(card["files"], (nlohmann::json{"seg.onnx", "seg.card.json"}));
}

TEST_F(OnnxExport, MissingInputSizeIsRefusedAndLeavesNothing) {
  torch::manual_seed(14);
  Network net(testing::small_cifar("revup-memsave", 8));
  net->eval();
  ScratchDir dir;
  const auto path = dir.file("model.onnx");
  try {
    write_export(net->inference_graph(input_stats(3)), ExportFormat::kOnnx, path,
                 test_card("classification", 3, input_stats(3), {}));
    FAIL() << "an ONNX export without an input size was written";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fixed input size"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entries(), 0u);
}

TEST_F(OnnxExport, UnwritablePathLeavesNothing) {
  torch::manual_seed(15);
  Network net(testing::small_cifar("revup-memsave", 8));
  net->eval();
  ScratchDir dir;
  const auto path = dir.file("missing-folder/model.onnx");
  try {
    write_export(net->inference_graph(input_stats(3)), ExportFormat::kOnnx, path,
                 test_card("classification", 3, input_stats(3), {32, 32}));
    FAIL() << "wrote into a missing folder";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entries(), 0u);
}

// What the read-back check catches: a file OpenCV cannot read is an error
// naming it (here: not ONNX at all).
TEST_F(OnnxExport, OpenCvErrorsNameTheFile) {
  ScratchDir dir;
  const auto path = dir.file("garbage.onnx");
  std::ofstream(path) << "not a model";
  try {
    run_onnx_with_opencv(path, torch::zeros({1, 3, 8, 8}));
    FAIL() << "OpenCV read garbage";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_onnx_file(path), std::runtime_error);
}

// LibTorch and the ONNX exporter in one process (this one) load one protobuf
// and one ONNX: Debian's LibTorch links Debian's libprotobuf and libonnx, the
// PyTorch wheel's carries private copies (ONNX in namespace onnx_torch,
// protobuf not exported). Two libprotobufs, or a LibTorch that exported
// protobuf's or onnx's classes, would hand the exporter the other copy's code
// (crashes or "File already exists in database" at start). Checked by the
// libraries mapped and by which library the loader binds the symbols to.
std::string library_of(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  return fs::path(info.dli_fname).filename().string();
}

TEST(OnnxExportProcess, OneProtobufAndOneOnnxWithLibTorch) {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> protobufs, onnxs, torchs;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const auto name = fs::path(line.substr(slash)).filename().string();
    if (name.rfind("libprotobuf.so", 0) == 0 || name.rfind("libprotobuf-lite.so", 0) == 0) {
      protobufs.insert(name);
    }
    if (name.rfind("libonnx.so", 0) == 0) onnxs.insert(name);
    if (name.rfind("libtorch_cpu.so", 0) == 0) torchs.insert(name);
  }
  ASSERT_EQ(torchs.size(), 1u) << "LibTorch is not loaded: the check would prove nothing";
  EXPECT_EQ(protobufs.size(), 1u) << "protobuf libraries loaded: " << protobufs.size();
  EXPECT_EQ(onnxs.size(), 1u) << "ONNX libraries loaded: " << onnxs.size();
  // google::protobuf::Message::CopyFrom and onnx::ModelProto's parser.
  EXPECT_EQ(library_of("_ZN6google8protobuf7Message8CopyFromERKS1_").rfind("libprotobuf.so", 0), 0u)
      << library_of("_ZN6google8protobuf7Message8CopyFromERKS1_");
  const std::string onnx_parse = library_of(
      "_ZN4onnx10ModelProto14_InternalParseEPKcPN6google8protobuf8internal12ParseContextE");
  EXPECT_EQ(onnx_parse.rfind("libonnx_proto.so", 0), 0u) << onnx_parse;
  // And the exporter works here: a model written, checked and parsed back.
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(11);
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  onnx::ModelProto back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.ir_version(), 7);
}

}  // namespace
}  // namespace revup
