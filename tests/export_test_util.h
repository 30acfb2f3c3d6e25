#pragma once
// Helpers the export tests share (LibTorch's TorchScript and weights, ONNX
// through OpenCV, and the fixture Python reads): inputs with realistic
// normalization, model cards, the tiny segmentation net, scratch folders.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "core/model_export.h"
#include "models/segmentation_net.h"

namespace revup::testing {

// Statistics far from (0, 1), so a normalization left out or applied twice shows.
inline InputNormalization input_stats(int64_t channels) {
  InputNormalization n;
  for (int64_t c = 0; c < channels; ++c) {
    n.mean.push_back(100.0 + 20.0 * static_cast<double>(c));
    n.std.push_back(30.0 + 5.0 * static_cast<double>(c));
  }
  return n;
}

// Raw pixel-like values and what io's normalize makes of them (float64, then float32).
inline std::pair<torch::Tensor, torch::Tensor> raw_and_normalized(const InputNormalization& n,
                                                                  std::vector<int64_t> shape) {
  std::vector<int64_t> stat_shape(shape.size(), 1);  // [1, C, 1, 1] or [1, C, 1, 1, 1]
  stat_shape.at(1) = static_cast<int64_t>(n.mean.size());
  const auto mean = torch::tensor(n.mean, torch::kFloat64).reshape(stat_shape);
  const auto sd = torch::tensor(n.std, torch::kFloat64).reshape(stat_shape);
  const auto raw = (torch::randn(shape) * sd + mean).to(torch::kFloat32);
  return {raw, ((raw.to(torch::kFloat64) - mean) / sd).to(torch::kFloat32)};
}

// A card with every field an export writes; `input_size` empty: any size.
inline ModelCard test_card(const std::string& task, int64_t channels, const InputNormalization& n,
                           std::vector<int64_t> input_size = {}) {
  ModelCard card;
  card.task = task;
  card.architecture = {{"arch", "test"}};
  card.classes = {"a", "b", "c"};
  card.input_channels = channels;
  card.normalization = n;
  card.input_values = "raw pixel values";
  card.input_size = std::move(input_size);
  card.training = {{"data", "none"}};
  card.tool_version = "test";
  return card;
}

// Three stages of two basic blocks at widths 4/8/8, 3 classes: small enough
// for float64 gradient checks, every layer kind of the real presets.
inline SegmentationConfig tiny_segmentation(const std::string& arch = "revup-memsave",
                                            const std::string& stem = "patch") {
  SegmentationConfig c;
  c.backbone.arch = arch;
  c.backbone.style = "imagenet";
  c.backbone.stem = stem;
  c.backbone.blocks = {2, 2, 2};
  c.backbone.widths = {4, 8, 8};
  c.backbone.block = "basic";
  c.backbone.stem_width = 4;
  c.backbone.classifier = false;
  c.backbone.in_channels = 3;
  c.num_classes = 3;
  c.decoder_width = 6;
  return c;
}

inline double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e9;
  return (a - b).abs().max().item<double>();
}

// A fresh folder per test, removed afterwards.
struct ScratchDir {
  explicit ScratchDir(const std::string& prefix = "revup-export-test") {
    const auto* unit = ::testing::UnitTest::GetInstance();
    path = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(unit->random_seed()) + "-" +
            unit->current_test_info()->name());
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  size_t entries() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(path),
                                             std::filesystem::directory_iterator()));
  }
  std::filesystem::path path;
};

}  // namespace revup::testing
