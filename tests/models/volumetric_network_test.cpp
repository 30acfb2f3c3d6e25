// Issue 19: a Network of dims 3 is the 2D one over Conv3d, with the same
// MemSave guarantee, and says clearly what it cannot do yet.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "../export_test_util.h"
#include "../test_util.h"
#include "core/memory_tracker.h"
#include "core/model_export.h"
#include "models/network.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_net.h"
#include "models/segmentation_presets.h"
#include "models/state_utils.h"
#include "models/upsampled_loss.h"

namespace revup {
namespace {

// A small CIFAR-style volumetric classifier: stem 3x3x3, three stages
// (strides 1, 2, 2), a 16^3 probe grid for speed.
ModelConfig small_volumetric(const std::string& arch, int depth = 8) {
  auto c = testing::small_cifar(arch, depth);
  c.dims = 3;
  c.in_channels = 1;
  c.sn.grid = 16;
  c.sn.warmup_iterations = 5;
  return c;
}

TEST(VolumetricNetwork, ConfigRoundTripsAndRefusesWhat3DCannotDo) {
  const auto c = small_volumetric("revup-memsave");
  EXPECT_EQ(ModelConfig::from_json(c.to_json()).dims, 3);
  EXPECT_EQ(ModelConfig::from_json(nlohmann::json::object()).dims, 2);  // older configs: 2D
  auto bad = c;
  bad.dims = 4;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad = c;
  bad.arch = "resnet";  // BatchNorm blocks: 2D only
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad = c;
  bad.sn.grid = 12;  // fine for 2D, too coarse for 3x3x3 kernels
  try {
    bad.validate();
    FAIL() << "a 12^3 grid was accepted for 3x3x3 kernels";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(14 or more)"), std::string::npos) << e.what();
  }
  bad.dims = 2;
  EXPECT_NO_THROW(bad.validate());
}

TEST(VolumetricNetwork, EveryStageIsAVolumeAndItsExportGraphComputesTheForward) {
  torch::manual_seed(50);
  Network net(small_volumetric("revup-memsave", 14));
  net->eval();
  const auto x = torch::randn({2, 1, 12, 10, 8});
  const auto stages = net->stage_features(x);
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].sizes(), (std::vector<int64_t>{2, 4, 12, 10, 8}));
  EXPECT_EQ(stages[2].sizes(), (std::vector<int64_t>{2, 16, 3, 3, 2}));
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{2, 5}));
  for (auto block : net->invertible_blocks()) {
    EXPECT_EQ(block->convs[0]->weight.dim(), 5);
    EXPECT_LT(block->lipschitz_bound(), 1.0);
  }
  testing::perturb(*net);  // Fixup's zero branches would hide a wrong 3D op
  torch::NoGradGuard no_grad;
  const auto graph = net->inference_graph();
  EXPECT_EQ(graph.spatial_dims(), 3);
  EXPECT_LT((graph.run(x) - net->forward(x)).abs().max().item<double>(), 1e-5);
}

TEST(VolumetricNetwork, MemSaveGradientsEqualPlainAutogradInFloat64) {
  torch::manual_seed(51);
  auto config = small_volumetric("revup");
  config.sn.power_iterations = 0;  // both networks use identical weights
  config.inverse.tolerance = 1e-13;
  config.inverse.max_iterations = 500;
  Network plain(config);
  testing::perturb(*plain);
  plain->to(torch::kFloat64);
  config.arch = "revup-memsave";
  Network memsave(config);
  memsave->to(torch::kFloat64);
  copy_state(*plain, *memsave);
  const auto x = torch::randn({2, 1, 10, 12, 9}, torch::kFloat64);
  const auto target = torch::tensor({4, 1});
  std::map<std::string, torch::Tensor> grads[2];
  torch::Tensor input_grads[2];
  int i = 0;
  for (auto* net : {&plain, &memsave}) {
    auto input = x.clone().requires_grad_(true);
    torch::nn::functional::cross_entropy((*net)->forward(input), target).backward();
    input_grads[i] = input.grad();
    for (const auto& p : (*net)->named_parameters()) grads[i][p.key()] = p.value().grad();
    ++i;
  }
  EXPECT_LT(testing::relative_error(input_grads[1], input_grads[0]), 1e-8);
  std::vector<torch::Tensor> a, b;
  for (const auto& [name, g] : grads[0]) {
    ASSERT_TRUE(grads[1].count(name)) << name;
    b.push_back(g.flatten());
    a.push_back(grads[1][name].flatten());
  }
  EXPECT_LT(testing::relative_error(torch::cat(a), torch::cat(b)), 1e-8);
  EXPECT_GT(grads[0].at("stage1_block0.conv2.weight").abs().sum().item<double>(), 1e-8);
}

// A volumetric segmentation network: the patch stem (4x4x4, stride 4), two
// stages, the light decoder with trilinear resizing.
SegmentationConfig small_volumetric_segmentation(const std::string& arch) {
  SegmentationConfig c;
  c.backbone = small_volumetric(arch);
  c.backbone.style = "imagenet";
  c.backbone.blocks = {2, 1};
  c.backbone.block = "basic";
  c.backbone.widths = {4, 8};
  c.backbone.stem = "patch";
  c.backbone.stem_width = 4;
  c.backbone.classifier = false;
  c.num_classes = 3;
  c.decoder_width = 4;
  return c;
}

TEST(VolumetricSegmentation, PredictsEveryVoxelAndMemSaveGradientsEqualAutograd) {
  torch::manual_seed(53);
  const auto config = small_volumetric_segmentation("revup");
  EXPECT_EQ(SegmentationConfig::from_json(config.to_json()).to_json(), config.to_json());
  auto [plain, memsave] = testing::segmentation_twins(config);
  const auto x = torch::randn({1, 1, 16, 12, 20}, torch::kFloat64);
  EXPECT_EQ(plain->forward(x).sizes(), (std::vector<int64_t>{1, 3, 16, 12, 20}));
  EXPECT_EQ(plain->forward_coarse(x).sizes(), (std::vector<int64_t>{1, 3, 4, 3, 5}));
  auto target = torch::randint(0, 3, {1, 16, 12, 20}, torch::kLong);
  target.index_put_({0, 0}, 255);  // a plane of ignored voxels
  auto grads = [&](SegmentationNet& net) {
    net->zero_grad();
    // Coarse logits: the loss upsamples them slab by slab, as training does.
    segmentation_loss(net->forward_coarse(x), target, {255, 0.5}).backward();
    return testing::flat_gradients(*net);
  };
  const auto a = grads(plain);
  const auto b = grads(memsave);
  ASSERT_GT(a.norm().item<double>(), 0.0);
  EXPECT_LT(testing::relative_error(b, a), 1e-8);
}

// Export of a 3D segmentation model with an anisotropic patch stem: the graph
// computes the eval forward, and TorchScript and weights written by
// write_export (each read back by its own reader and checked against the
// graph on a 32^3 input) do too; the card says NCDHW.
TEST(VolumetricSegmentation, ExportsAsTorchScriptAndWeightsThatComputeTheForward) {
  torch::manual_seed(55);
  auto config = small_volumetric_segmentation("revup-memsave");
  config.backbone.stem_strides = {2, 4, 4};
  SegmentationNet net(config);
  testing::perturb(*net);
  net->eval();
  const auto n = testing::input_stats(1);
  const auto [raw, x] = testing::raw_and_normalized(n, {1, 1, 10, 17, 13});
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = net->forward(x);
  }
  const auto graph = net->inference_graph(n);
  const double graph_diff = (graph.run(raw) - expected).abs().max().item<double>();
  std::printf("[ 3D export ] output scale %.3g, max |graph - forward| = %.3g\n",
              expected.abs().max().item<double>(), graph_diff);
  EXPECT_GT(expected.abs().max().item<double>(), 1e-2);
  EXPECT_LT(graph_diff, 1e-5);
  const auto json = graph.to_json().dump();
  for (const char* op : {"conv3d", "resize_trilinear"}) {
    EXPECT_NE(json.find(op), std::string::npos) << op;
  }

  testing::ScratchDir dir;
  const auto card = testing::test_card("segmentation", 1, n);
  const auto script = write_export(graph, ExportFormat::kTorchScript, dir.file("m.pt"), card);
  EXPECT_EQ(script.checked_input, (std::vector<int64_t>{1, 1, 32, 32, 32}));
  EXPECT_LT(script.max_abs_difference, kExportTolerance);
  auto loaded = torch::jit::load(dir.file("m.pt"));
  torch::NoGradGuard no_grad;
  EXPECT_LT((loaded.forward({raw}).toTensor() - expected).abs().max().item<double>(), 1e-5);
  std::ifstream card_in(dir.file("m.card.json"));
  const auto written = nlohmann::json::parse(card_in);
  EXPECT_EQ(written["input"]["layout"], "NCDHW, float32");
  EXPECT_EQ(written["input"]["size"], "any (D, H, W)");

  const auto weights = write_export(graph, ExportFormat::kWeights, dir.file("m.pth"), card);
  EXPECT_EQ(weights.max_abs_difference, 0.0);
  auto sized = card;
  sized.input_size = {17, 13};  // H x W for a volume
  EXPECT_THROW(write_export(graph, ExportFormat::kTorchScript, dir.file("s.pt"), sized),
               std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.file("s.pt")));

  // Volumes trained with per-volume normalization export it: each input by
  // its own statistics, so a scan in other units (x 3 + 100) predicts the same.
  auto own = n;
  own.per_image = true;
  const auto per_image = net->inference_graph(own);
  const auto x64 = raw.to(torch::kFloat64);
  const auto mean = x64.mean({2, 3, 4}, true);
  const auto sd = (x64.square().mean({2, 3, 4}, true) - mean.square()).sqrt();
  const auto own_expected = net->forward(((x64 - mean) / sd).to(torch::kFloat32));
  EXPECT_LT((per_image.run(raw) - own_expected).abs().max().item<double>(), 1e-5);
  EXPECT_LT((per_image.run(raw * 3 + 100) - own_expected).abs().max().item<double>(), 1e-4);
  auto own_card = testing::test_card("segmentation", 1, own);
  const auto own_script =
      write_export(per_image, ExportFormat::kTorchScript, dir.file("own.pt"), own_card);
  EXPECT_LT(own_script.max_abs_difference, kExportTolerance);
  auto own_loaded = torch::jit::load(dir.file("own.pt"));
  EXPECT_LT(
      (own_loaded.forward({raw * 3 + 100}).toTensor() - own_expected).abs().max().item<double>(),
      1e-4);
}

// Thick slices (5 mm apart, 1 mm in plane): the patch stem keeps every slice
// (stride 1 along D) and reduces the plane by 4; the network still predicts
// every voxel, MemSave's gradients still equal autograd's.
TEST(VolumetricSegmentation, AnisotropicVoxelsGetAPatchStemThatKeepsTheirThickSlices) {
  EXPECT_TRUE(anisotropic_patch_strides({1, 1, 1}).empty());
  EXPECT_TRUE(anisotropic_patch_strides({1.2, 1, 1}).empty());
  EXPECT_EQ(anisotropic_patch_strides({5, 1, 1}), (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(anisotropic_patch_strides({2, 0.9, 1}), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_THROW(anisotropic_patch_strides({0, 1, 1}), std::invalid_argument);

  torch::manual_seed(54);
  auto config = small_volumetric_segmentation("revup");
  config.backbone.stem_strides = {1, 4, 4};
  EXPECT_EQ(SegmentationConfig::from_json(config.to_json()).backbone.stem_strides,
            config.backbone.stem_strides);
  auto bad = config;
  bad.backbone.stem_strides = {1, 4};
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad.backbone.stem_strides = {3, 4, 4};
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  auto [plain, memsave] = testing::segmentation_twins(config);
  const auto x = torch::randn({1, 1, 6, 16, 12}, torch::kFloat64);
  EXPECT_EQ(plain->forward(x).sizes(), (std::vector<int64_t>{1, 3, 6, 16, 12}));
  EXPECT_EQ(plain->forward_coarse(x).sizes(), (std::vector<int64_t>{1, 3, 6, 4, 3}));
  const auto target = torch::randint(0, 3, {1, 6, 16, 12}, torch::kLong);
  auto grads = [&](SegmentationNet& net) {
    net->zero_grad();
    segmentation_loss(net->forward_coarse(x), target, {255, 0.0}).backward();
    return testing::flat_gradients(*net);
  };
  const auto a = grads(plain);
  ASSERT_GT(a.norm().item<double>(), 0.0);
  EXPECT_LT(testing::relative_error(grads(memsave), a), 1e-8);
}

TEST(VolumetricLoss, SlabWiseEqualsTheTrilinearlyUpsampledLossAndGradient) {
  // The banded loss of issue 19: coarse volumetric logits upsampled plane
  // slab by plane slab, never whole, with the numbers of interpolate(trilinear).
  namespace F = torch::nn::functional;
  torch::manual_seed(52);
  const auto coarse = torch::randn({2, 3, 4, 5, 6}, torch::kFloat64) * 3;
  auto target = torch::randint(0, 3, {2, 13, 17, 19}, torch::kLong);
  target.index_put_({0, torch::indexing::Slice(2, 5)}, 255);
  target.index_put_({1, torch::indexing::Slice(), 0}, 255);
  for (const double dice : {0.0, 0.7}) {
    auto full_in = coarse.clone().requires_grad_(true);
    const auto up = F::interpolate(full_in, F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{13, 17, 19})
                                                .mode(torch::kTrilinear)
                                                .align_corners(false));
    // Full-size logits: the plain loss (cross-entropy and soft Dice over 3D).
    const auto expected = segmentation_loss(up, target, {255, dice});
    expected.backward();
    ASSERT_GT(full_in.grad().norm().item<double>(), 0.0);
    // Two planes a band (2 x 3 x 17 x 19 elements each), the last one shorter;
    // then bands of 5 rows of a plane (a plane is more than a band: 117
    // classes on a 217x181 plane are 18 MiB), the last one shorter.
    for (const int64_t band : {2 * 3 * 17 * 19 * 2, 2 * 3 * 19 * 5}) {
      auto banded_in = coarse.clone().requires_grad_(true);
      const auto banded = upsampled_segmentation_loss(banded_in, target, {255, dice, band});
      banded.backward();
      EXPECT_NEAR(banded.item<double>(), expected.item<double>(), 1e-9) << dice << " " << band;
      EXPECT_LT(testing::relative_error(banded_in.grad(), full_in.grad()), 1e-9)
          << dice << " " << band;
      // Logits nothing else holds (as in training): the loss writes their
      // gradient into their own storage, row by row as the bands pass.
      auto leaf = coarse.clone().requires_grad_(true);
      upsampled_segmentation_loss(leaf * 1.0, target, {255, dice, band}).backward();
      EXPECT_LT(testing::relative_error(leaf.grad(), full_in.grad()), 1e-9)
          << dice << " " << band << ", in place";
    }
    // The same loss through segmentation_loss, which bands when the sizes differ.
    EXPECT_NEAR(segmentation_loss(coarse, target, {255, dice}).item<double>(),
                expected.item<double>(), 1e-9);
  }
  EXPECT_THROW(upsampled_segmentation_loss(coarse, target.select(1, 0), {}), std::invalid_argument);
}

// The loss's backward allocates no gradient the size of the logits when it
// holds the only reference to them: 40 classes on 24^3 coarse voxels (2.1 MiB
// a tensor), upsampled to 48^3 in bands of 2^14 elements (about 0.7 MiB of
// scratch).
TEST(VolumetricLoss, BackwardWritesTheLogitsGradientIntoTheirStorage) {
  torch::manual_seed(54);
  MemoryTracker::install_cpu_tracking();
  const auto leaf = torch::randn({1, 40, 24, 24, 24}).requires_grad_(true);
  const auto target = torch::randint(0, 40, {1, 48, 48, 48}, torch::kUInt8);
  const UpsampledLossOptions options{255, 0.5, int64_t{1} << 14};
  const std::int64_t logits_bytes = leaf.numel() * 4;
  auto loss = upsampled_segmentation_loss(leaf * 1.0, target, options);
  const auto peak = testing::peak_bytes_of([&] { loss.backward(); });
  // The leaf's gradient (from the product's backward, after the loss's) is
  // the one logits-sized buffer; the loss's own backward adds only scratch.
  EXPECT_LT(peak, logits_bytes + logits_bytes / 2) << "peak " << peak << " B above live";
  // The same logits held by the caller: their gradient needs a buffer of its
  // own, alive beside the leaf's.
  auto held = leaf * 1.0;
  const auto held_values = held.detach().clone();
  loss = upsampled_segmentation_loss(held, target, options);
  const auto held_peak = testing::peak_bytes_of([&] { loss.backward(); });
  EXPECT_GT(held_peak, logits_bytes * 9 / 5) << "peak " << held_peak << " B above live";
  EXPECT_TRUE(held.equal(held_values)) << "the caller's logits were overwritten";
  EXPECT_THROW(loss.backward(), std::runtime_error);  // the graph is gone after one backward
}

}  // namespace
}  // namespace revup
