// Export: the plain-op graph a model describes computes what its eval forward
// computes, and so does what each writer wrote, read back by that format's own
// reader (torch::jit::load, torch::pickle_load). Weights are perturbed so every
// branch is non-zero (at Fixup's init g == 0 and a wrong branch would pass).
//
// Tolerance 1e-5 (float32): the graph runs the same aten ops on the same baked
// tensors as the forward, so only a different op order could differ at all; a
// wrong op, a missed spectral-norm divisor or a misplaced bias is >= 1e-2 here.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "../export_test_util.h"
#include "../test_util.h"
#include "core/model_export.h"
#include "core/torchscript_export.h"
#include "models/network.h"
#include "models/segmentation_net.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

constexpr double kTolerance = 1e-5;

using testing::input_stats;
using testing::max_abs;
using testing::raw_and_normalized;
using testing::ScratchDir;
using testing::test_card;
using testing::tiny_segmentation;

// The graph, its TorchScript module in memory and the module saved and read
// back, each against the model's own eval forward on the same raw input.
void expect_exports_match(const InferenceGraph& graph, const torch::Tensor& raw,
                          const torch::Tensor& expected, const std::string& what) {
  torch::NoGradGuard no_grad;
  const double graph_diff = max_abs(graph.run(raw), expected);
  ScratchDir dir;
  const auto path = dir.file("model.pt");
  to_torchscript(graph).save(path);
  auto loaded = torch::jit::load(path);
  loaded.eval();
  const double script_diff = max_abs(loaded.forward({raw}).toTensor(), expected);
  std::printf(
      "[ %s ] output scale %.3g; max |graph - forward| = %.3g, "
      "max |torch::jit::load(saved) - forward| = %.3g\n",
      what.c_str(), expected.abs().max().item<double>(), graph_diff, script_diff);
  EXPECT_LT(graph_diff, kTolerance) << what;
  EXPECT_LT(script_diff, kTolerance) << what;
  // Something to compare: a zero output would make every difference zero.
  EXPECT_GT(expected.abs().max().item<double>(), 1e-2) << what;
}

TEST(Export, SegmentationTorchScriptEqualsForward) {
  torch::manual_seed(1);
  SegmentationNet net(tiny_segmentation());
  testing::perturb(*net);
  net->eval();
  const auto n = input_stats(3);
  // An odd size: the bilinear resizes and the patch stem's cropping both matter.
  const auto [raw, x] = raw_and_normalized(n, {2, 3, 45, 61});
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = net->forward(x);
  }
  expect_exports_match(net->inference_graph(n), raw, expected, "segmentation revup-memsave");
}

TEST(Export, SegmentationWithoutNormalizationTakesNormalizedInput) {
  torch::manual_seed(2);
  SegmentationNet net(tiny_segmentation());
  testing::perturb(*net);
  net->eval();
  const auto x = torch::randn({1, 3, 32, 40});
  torch::NoGradGuard no_grad;
  const auto graph = net->inference_graph();
  EXPECT_LT(max_abs(graph.run(x), net->forward(x)), kTolerance);
}

// Every block family and stem kind a classifier can have.
struct ClassifierCase {
  std::string name;
  ModelConfig config;
};

std::vector<ClassifierCase> classifier_cases() {
  std::vector<ClassifierCase> cases;
  cases.push_back({"revup-memsave cifar-8", testing::small_cifar("revup-memsave", 8)});
  cases.push_back({"revup cifar-8", testing::small_cifar("revup", 8)});
  cases.push_back({"resnet-fixup cifar-8", testing::small_cifar("resnet-fixup", 8)});
  auto injective = testing::small_cifar("revup-memsave", 8, {8, 8, 16});
  injective.injective_stem = true;
  cases.push_back({"revup injective stem", injective});
  ModelConfig bottleneck;
  bottleneck.arch = "revup-memsave";
  bottleneck.style = "imagenet";
  bottleneck.blocks = {2, 1};
  bottleneck.widths = {4, 8};  // bottleneck outputs: 16, 32
  bottleneck.block = "bottleneck";
  bottleneck.stem_width = 8;
  bottleneck.num_classes = 4;
  cases.push_back({"revup bottleneck imagenet stem", bottleneck});
  return cases;
}

TEST(Export, ClassifierTorchScriptEqualsForward) {
  for (const auto& c : classifier_cases()) {
    torch::manual_seed(3);
    Network net(c.config);
    testing::perturb(*net);
    net->eval();
    const auto n = input_stats(c.config.in_channels);
    const auto [raw, x] = raw_and_normalized(n, {2, c.config.in_channels, 32, 32});
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = net->forward(x);
    }
    expect_exports_match(net->inference_graph(n), raw, expected, c.name);
  }
}

TEST(Export, GraphBakesSpectralNormAndKeepsBorderPreBiasAsAdd) {
  torch::manual_seed(4);
  Network net(testing::small_cifar("revup-memsave", 8));
  testing::perturb(*net);
  auto block = net->invertible_blocks().at(0);
  {
    // Well above c: the divisor is > 1 for sure, so baked != raw.
    torch::NoGradGuard no_grad;
    block->convs[0]->weight.mul_(10.0);
  }
  net->eval();
  const auto graph = net->inference_graph();
  // A RevUp block's weights are the normalized ones, not the raw parameters.
  const auto& baked = graph.tensor("stage1_block0.conv1.weight");
  EXPECT_FALSE(torch::equal(baked, block->convs[0]->weight.detach()));
  EXPECT_TRUE(torch::allclose(baked, block->convs[0]->normalized_weight()));
  int pre_bias_adds = 0;
  for (const auto& op : graph.ops()) {
    if (op.kind == InferenceOpKind::kAddTensor) ++pre_bias_adds;
  }
  // Basic blocks: both 3x3 convs keep their pre-bias as an add (3 stages x 1 block x 2).
  EXPECT_EQ(pre_bias_adds, 2 * net->residual_block_count());
}

TEST(Export, UnsupportedLayerAndTrainingModeAreRefused) {
  Network batch_norm(testing::small_cifar("resnet", 8));
  batch_norm->eval();
  try {
    batch_norm->inference_graph();
    FAIL() << "a BatchNorm network was described";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stem: a BatchNorm stem cannot be exported"),
              std::string::npos)
        << e.what();
  }
  Network training(testing::small_cifar("revup-memsave", 8));
  EXPECT_THROW(training->inference_graph(), c10::Error);
  Network revup(testing::small_cifar("revup-memsave", 8));
  revup->eval();
  EXPECT_THROW(revup->inference_graph(input_stats(2)), std::invalid_argument);  // 3-channel model
}

TEST(Export, WeightsRoundTripThroughPickle) {
  torch::manual_seed(5);
  SegmentationNet net(tiny_segmentation());
  testing::perturb(*net);
  net->eval();
  const auto graph = net->inference_graph(input_stats(3));
  ScratchDir dir;
  const auto path = dir.file("model.pth");
  const auto report = write_export(graph, ExportFormat::kWeights, path,
                                   test_card("segmentation", 3, input_stats(3)));
  EXPECT_EQ(report.max_abs_difference, 0.0);
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  const auto dict = torch::pickle_load(bytes).toGenericDict();
  ASSERT_EQ(dict.size(), graph.tensors().size());
  for (const auto& [name, tensor] : graph.tensors()) {
    EXPECT_TRUE(torch::equal(dict.at(name).toTensor(), tensor)) << name;
  }
  std::ifstream arch_in(dir.file("model.architecture.json"));
  const auto arch = nlohmann::json::parse(arch_in);
  EXPECT_EQ(arch.at("graph").at("ops").size(), graph.ops().size());
  EXPECT_EQ(arch.at("weights"), "model.pth");
  EXPECT_TRUE(fs::exists(dir.file("model.card.json")));
}

TEST(Export, TorchScriptFileCarriesACheckedModelCard) {
  torch::manual_seed(6);
  SegmentationNet net(tiny_segmentation());
  testing::perturb(*net);
  net->eval();
  const auto n = input_stats(3);
  auto card = test_card("segmentation", 3, n);
  card.input_size = {40, 56};
  ScratchDir dir;
  const auto path = dir.file("seg.pt");
  const auto report = write_export(net->inference_graph(n), ExportFormat::kTorchScript, path, card);
  EXPECT_LT(report.max_abs_difference, kTolerance);
  EXPECT_EQ(report.checked_input, (std::vector<int64_t>{1, 3, 40, 56}));
  std::ifstream in(dir.file("seg.card.json"));
  const auto j = nlohmann::json::parse(in);
  for (const char* key :
       {"model_card_version", "task", "architecture", "inference", "classes", "input", "output",
        "training", "tool", "format", "files", "verification"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["format"], "torchscript");
  EXPECT_EQ(j["input"]["size"].get<std::vector<int64_t>>(), (std::vector<int64_t>{40, 56}));
  EXPECT_EQ(j["input"]["normalization"]["mean"].get<std::vector<double>>(), n.mean);
  EXPECT_EQ(j["files"], (nlohmann::json{"seg.pt", "seg.card.json"}));
  // The card also travels inside the TorchScript file.
  torch::jit::ExtraFilesMap extra{{"model_card.json", ""}};
  torch::jit::load(path, c10::nullopt, extra);
  EXPECT_EQ(nlohmann::json::parse(extra.at("model_card.json"))["task"], "segmentation");
  // Only the named files: no temporary folder left beside them.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 2);
}

TEST(Export, UnwritablePathLeavesNothing) {
  torch::manual_seed(7);
  Network net(testing::small_cifar("revup-memsave", 8));
  net->eval();
  const auto graph = net->inference_graph(input_stats(3));
  ScratchDir dir;
  const auto path = dir.file("missing-folder/model.pt");
  try {
    write_export(graph, ExportFormat::kTorchScript, path,
                 test_card("classification", 3, input_stats(3)));
    FAIL() << "wrote into a missing folder";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 0);
  EXPECT_THROW(export_format_from_name("caffe"), std::invalid_argument);
}

// A format core does not write itself (ONNX) goes through a registered writer
// and core's contract: before one is registered (this binary never registers
// io's ONNX writer) a clear error; then the writer's output is held to its
// tolerance, and a writer that misses it leaves nothing behind.
TEST(Export, RegisteredWriterIsHeldToTheContract) {
  torch::manual_seed(8);
  Network net(testing::small_cifar("revup-memsave", 8));
  testing::perturb(*net);
  net->eval();
  const auto graph = net->inference_graph(input_stats(3));
  auto card = test_card("classification", 3, input_stats(3));
  card.input_size = {16, 16};
  ScratchDir dir;
  const auto path = dir.file("model.onnx");
  ASSERT_EQ(export_format_from_name("onnx"), ExportFormat::kOnnx);
  ASSERT_FALSE(export_format_available(ExportFormat::kOnnx));
  try {
    write_export(graph, ExportFormat::kOnnx, path, card);
    FAIL() << "an onnx export without its writer";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("this build has no onnx support"), std::string::npos)
        << e.what();
  }

  // A stand-in consumer that is off by `error`.
  double error = 0.0;
  ExportWriter fake;
  fake.reader = "fake reader";
  fake.tolerance = 1e-4;
  fake.needs_input_size = true;
  fake.details = {{"opset", 0}};
  fake.write_and_run = [&](const InferenceGraph& g, const std::string& file, const nlohmann::json&,
                           const torch::Tensor& x) {
    std::ofstream(file) << "model";
    return g.run(x) + error;
  };
  register_export_writer(ExportFormat::kOnnx, fake);
  EXPECT_TRUE(export_format_available(ExportFormat::kOnnx));

  card.input_size.clear();
  EXPECT_THROW(write_export(graph, ExportFormat::kOnnx, path, card), std::invalid_argument);
  card.input_size = {16, 16};
  error = 2e-4;
  EXPECT_THROW(write_export(graph, ExportFormat::kOnnx, path, card), std::runtime_error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 0);

  error = 5e-5;
  const auto report = write_export(graph, ExportFormat::kOnnx, path, card);
  EXPECT_NEAR(report.max_abs_difference, 5e-5, 1e-6);
  std::ifstream in(dir.file("model.card.json"));
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["format"], "onnx");
  EXPECT_EQ(j["verification"]["reader"], "fake reader");
  EXPECT_EQ(j["verification"]["opset"], 0);
  EXPECT_EQ(j["verification"]["tolerance"], 1e-4);

  // A writer that does not say it runs volumes gets no 3D graph: the reason, and no file.
  auto volumetric = testing::small_cifar("revup-memsave", 8);
  volumetric.dims = 3;
  volumetric.sn.grid = 16;
  Network net3d(volumetric);
  net3d->eval();
  card.input_size = {8, 16, 16};
  ScratchDir dir3d;
  try {
    write_export(net3d->inference_graph(input_stats(3)), ExportFormat::kOnnx,
                 dir3d.file("model.onnx"), card);
    FAIL() << "a 3D graph went to a 2D-only writer";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("onnx export of 3D models is not supported yet"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir3d.path), fs::directory_iterator()), 0);
}

}  // namespace
}  // namespace revup
