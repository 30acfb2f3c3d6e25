#include "models/model_config.h"

#include <algorithm>
#include <stdexcept>

#include "core/json_number.h"
#include "core/operator_norm.h"

namespace revup {
namespace {
bool is_imagenet_depth(int d) { return d == 18 || d == 34 || d == 50 || d == 101; }
}  // namespace

std::string ModelConfig::resolved_style() const {
  if (style == "cifar" || style == "imagenet") return style;
  if (style != "auto")
    throw std::invalid_argument("unknown style '" + style + "' (cifar, imagenet)");
  return is_imagenet_depth(depth) ? "imagenet" : "cifar";
}

std::vector<int> ModelConfig::blocks_per_stage() const {
  if (!blocks.empty()) {
    for (int b : blocks) {
      if (b < 1) throw std::invalid_argument("every stage needs at least one block");
    }
    return blocks;
  }
  if (resolved_style() == "cifar") {
    if (depth < 8 || (depth - 2) % 6 != 0) {
      throw std::invalid_argument("CIFAR-style depth must be 6n+2 (20, 32, 56, 110), got " +
                                  std::to_string(depth));
    }
    const int n = (depth - 2) / 6;
    return {n, n, n};
  }
  switch (depth) {
    case 18:
      return {2, 2, 2, 2};
    case 34:
      return {3, 4, 6, 3};
    case 50:
      return {3, 4, 6, 3};
    case 101:
      return {3, 4, 23, 3};
    default:
      throw std::invalid_argument("ImageNet-style depth must be 18, 34, 50 or 101, got " +
                                  std::to_string(depth));
  }
}

bool ModelConfig::bottleneck() const {
  if (block == "basic" || block == "bottleneck") return block == "bottleneck";
  if (block != "auto")
    throw std::invalid_argument("unknown block '" + block + "' (basic, bottleneck)");
  return blocks.empty() && resolved_style() == "imagenet" && depth >= 50;
}

int64_t ModelConfig::resolved_stem_width() const {
  if (stem_width > 0) return stem_width;
  if (stem_width < 0) throw std::invalid_argument("stem_width must be >= 0");
  return resolved_style() == "cifar" ? resolved_widths()[0] : 64;
}

std::vector<int64_t> ModelConfig::resolved_widths() const {
  const auto stages = blocks_per_stage().size();
  std::vector<int64_t> w = widths;
  if (w.empty()) {
    w = resolved_style() == "cifar" ? std::vector<int64_t>{16, 32, 64}
                                    : std::vector<int64_t>{64, 128, 256, 512};
    w.resize(stages, w.back() * 2);
  }
  if (w.size() != stages) {
    throw std::invalid_argument("widths needs " + std::to_string(stages) + " entries");
  }
  if (bottleneck()) {
    for (auto& x : w) x *= 4;  // bottleneck stages output 4x their inner width
  }
  return w;
}

void ModelConfig::validate() const {
  const auto& names = architecture_names();
  if (std::find(names.begin(), names.end(), arch) == names.end()) {
    throw std::invalid_argument(
        "unknown architecture '" + arch +
        "' (resnet, resnet-fixup, resnet-fixup-ckpt, revup, revup-memsave)");
  }
  for (const auto w : resolved_widths()) {
    if (w < 1) throw std::invalid_argument("stage widths must be >= 1");
  }
  resolved_stem_width();
  if (stem != "auto" && stem != "patch")
    throw std::invalid_argument("unknown stem '" + stem + "' (auto, patch)");
  if (stem == "patch" && resolved_style() != "imagenet")
    throw std::invalid_argument("the patch stem replaces the ImageNet-style stem");
  if (in_channels < 1 || num_classes < 1)
    throw std::invalid_argument("channels and classes must be >= 1");
  if (!stem_strides.empty()) {
    if (stem != "patch") throw std::invalid_argument("stem_strides are the patch stem's");
    if (static_cast<int64_t>(stem_strides.size()) != dims) {
      throw std::invalid_argument("stem_strides: one per spatial axis (" + std::to_string(dims) +
                                  "), got " + std::to_string(stem_strides.size()));
    }
    for (const auto s : stem_strides) {
      if (s != 1 && s != 2 && s != 4) throw std::invalid_argument("stem_strides: 1, 2 or 4 each");
    }
  }
  if (injective_stem && !is_revup()) {
    throw std::invalid_argument("the injective stem is for RevUp networks");
  }
  if (injective_stem && stem == "patch") {
    throw std::invalid_argument("choose the patch stem or the injective stem, not both");
  }
  if (dims != 2 && dims != 3) {
    throw std::invalid_argument("dims must be 2 (images) or 3 (volumes), got " +
                                std::to_string(dims));
  }
  if (dims == 3 && arch == "resnet") {
    throw std::invalid_argument(
        "dims 3: the BatchNorm ResNet is 2D only (use resnet-fixup, revup or revup-memsave)");
  }
  if (sn.coeff <= 0 || sn.coeff >= 1) throw std::invalid_argument("c must lie in (0, 1)");
  if (is_revup() && sampling_margin(3, sn.grid, dims) <= 0) {
    throw std::invalid_argument("spectral_norm.grid " + std::to_string(sn.grid) +
                                " is too coarse for 3x3 kernels in " + std::to_string(dims) +
                                "D (" + std::to_string(coarsest_grid(3, dims)) + " or more)");
  }
  if (sn.power_iterations < 0 || inverse.iterations < 0)
    throw std::invalid_argument("iterations must be >= 0");
  // MemSave rebuilds every block's input by the fixed point; with no
  // iteration it would use the output as the input and every gradient would
  // be wrong, silently.
  if (arch == "revup-memsave" && inverse.iterations == 0 && inverse.tolerance <= 0) {
    throw std::invalid_argument(
        "inverse.iterations = 0 with MemSave: backward could not rebuild the activations "
        "(use N >= 1, or a tolerance)");
  }
}

nlohmann::json ModelConfig::to_json() const {
  return {{"arch", arch},
          {"depth", depth},
          {"style", resolved_style()},
          {"in_channels", in_channels},
          {"num_classes", num_classes},
          {"widths", widths},
          {"blocks", blocks},
          {"block", block},
          {"stem_width", stem_width},
          {"stem", stem},
          {"stem_strides", stem_strides},
          {"dims", dims},
          {"classifier", classifier},
          {"injective_stem", injective_stem},
          {"spectral_norm",
           {{"coeff", sn.coeff}, {"power_iterations", sn.power_iterations}, {"grid", sn.grid}}},
          {"fixed_point",
           {{"iterations", inverse.iterations},
            {"tolerance", inverse.tolerance},
            {"max_iterations", inverse.max_iterations}}}};
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  ModelConfig c;
  c.arch = j.value("arch", c.arch);
  c.depth = json_number(j, "depth", c.depth);
  c.style = j.value("style", c.style);
  c.in_channels = json_number(j, "in_channels", c.in_channels);
  c.num_classes = json_number(j, "num_classes", c.num_classes);
  c.widths = json_numbers(j, "widths", c.widths);
  c.blocks = json_numbers(j, "blocks", c.blocks);
  c.block = j.value("block", c.block);
  c.stem_width = json_number(j, "stem_width", c.stem_width);
  c.stem = j.value("stem", c.stem);
  c.stem_strides = json_numbers(j, "stem_strides", c.stem_strides);
  c.dims = json_number(j, "dims", c.dims);
  c.classifier = j.value("classifier", c.classifier);
  c.injective_stem = j.value("injective_stem", c.injective_stem);
  if (j.contains("spectral_norm")) {
    const auto& s = j["spectral_norm"];
    c.sn.coeff = s.value("coeff", c.sn.coeff);
    c.sn.power_iterations = json_number(s, "power_iterations", c.sn.power_iterations);
    c.sn.grid = json_number(s, "grid", c.sn.grid);
  }
  if (j.contains("fixed_point")) {
    const auto& f = j["fixed_point"];
    c.inverse.iterations = json_number(f, "iterations", c.inverse.iterations);
    c.inverse.tolerance = f.value("tolerance", c.inverse.tolerance);
    c.inverse.max_iterations = json_number(f, "max_iterations", c.inverse.max_iterations);
  }
  c.validate();
  return c;
}

}  // namespace revup
