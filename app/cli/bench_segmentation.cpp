// revup-cli bench seg and seg3d: one full-resolution training step of the
// segmentation network, with MemSave, without MemSave, and as ResNet+Fixup of
// the same depth, widths and decoder, all in one run. seg: the cpu preset on
// 3840x2160 (target: MemSave's whole step <= 0.25 x ResNet+Fixup's); seg3d:
// the same preset in 3D on a whole volume of ch2's size with the AAL atlas's
// 117 classes (target <= 0.3x).
#include <torch/torch.h>

#include <iostream>
#include <map>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "core/label_ids.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_presets.h"

namespace revup::cli {
namespace {

struct SegmentationBench {
  BenchOptions o;
  std::string preset = "cpu";
  int64_t classes = 5;
  std::vector<int> blocks;
  std::vector<std::string> archs = {"revup-memsave", "revup", "resnet-fixup"};
  double target = 0.25;  // MemSave / ResNet+Fixup, whole step
};

std::string size_text(const std::vector<int64_t>& input) {  // [N, C, spatial...] -> "WxH" / "DxHxW"
  std::vector<int64_t> spatial(input.begin() + 2, input.end());
  if (spatial.size() == 2) std::swap(spatial[0], spatial[1]);  // images: width first
  std::string s;
  for (size_t a = 0; a < spatial.size(); ++a) s += (a ? "x" : "") + std::to_string(spatial[a]);
  return s;
}

void run_segmentation_bench(const SegmentationBench& b) {
  const auto& o = b.o;
  const auto device = select_device(o.device);
  const int64_t dims = static_cast<int64_t>(o.input.size()) - 2;
  auto config = segmentation_preset(b.preset, o.input[1], b.classes);
  config.backbone.dims = dims;
  if (!b.blocks.empty()) {
    config.backbone.blocks = b.blocks;
    config.preset += " (blocks overridden)";
  }
  config.validate();
  torch::manual_seed(o.seed);
  const auto x = torch::randn(o.input);
  std::vector<int64_t> label_shape{o.input[0]};
  label_shape.insert(label_shape.end(), o.input.begin() + 2, o.input.end());
  const auto y = torch::randint(0, b.classes, label_shape,
                                torch::TensorOptions().dtype(label_dtype_for(
                                    b.classes, SegmentationLossOptions{}.ignore_index)));
  const std::map<std::string, std::string> labels = {{"revup-memsave", "RevUp (MemSave)"},
                                                     {"revup", "RevUp without MemSave"},
                                                     {"resnet-fixup", "ResNet+Fixup"}};
  std::vector<std::pair<std::string, std::string>> archs;
  for (const auto& arch : b.archs) archs.emplace_back(arch, labels.at(arch));
  nlohmann::json report = bench_header(o, device);
  report["preset"] = b.preset;
  report["model"] = config.to_json();
  report["classes"] = b.classes;
  std::vector<PlotSeries> series;
  std::map<std::string, double> peak;
  ProgressBar bar(dims == 3 ? "bench seg3d" : "bench seg", static_cast<int64_t>(archs.size()));
  int64_t done = 0;
  for (const auto& [arch, label] : archs) {
    bar.update(done, arch);
    const auto m = measure_segmentation_step(config, arch, x, y, device);
    peak[arch] = static_cast<double>(m.whole_step_peak_bytes);
    auto result = step_json(m);
    result.update({{"arch", arch}, {"timeline", timeline_json(m.timeline, m.live_before_bytes)}});
    report["results"].push_back(result);
    series.push_back(timeline_series(label, m));
    bar.update(++done, arch);
  }
  bar.finish();
  const bool compared = peak.count("revup-memsave") && peak.count("resnet-fixup");
  const double ratio = compared ? peak["revup-memsave"] / peak["resnet-fixup"] : 0.0;
  if (compared) {
    report["ratios"] = {{"memsave_over_resnet_fixup", ratio},
                        {"target_memsave_over_resnet_fixup", b.target},
                        {"target_met", ratio <= b.target}};
  }
  if (peak.count("revup-memsave") && peak.count("revup")) {
    report["ratios"]["memsave_over_no_memsave"] = peak["revup-memsave"] / peak["revup"];
  }
  auto keys = step_keys();
  keys["whole_step_peak_bytes"] = keys["whole_step_peak_bytes"].get<std::string>() +
                                  "; the input and labels are part of what was live before";
  keys["ratios"] = "of whole_step_peak_bytes";
  keys["input"] = "random N(0,1) " + std::string(dims == 3 ? "voxels" : "pixels") +
                  " and uniform random labels: memory does not depend on the values";
  report["keys"] = keys;
  std::printf("%-24s %-14s %-18s %s\n", "", "whole step", "activation peak", "step");
  for (const auto& r : report["results"]) {
    std::printf("%-24s %-14s %-18s %.1f s\n", r["arch"].get<std::string>().c_str(),
                format_bytes(r["whole_step_peak_bytes"].get<double>()).c_str(),
                format_bytes(r["activation_peak_bytes"].get<double>()).c_str(),
                r["step_seconds"].get<double>());
  }
  if (compared) {
    std::printf("MemSave / ResNet+Fixup, whole step = %.3f (target <= %.2f: %s)\n", ratio, b.target,
                ratio <= b.target ? "met" : "NOT met");
  }
  write_json(o.json, report);
  const auto stem = output_stem(o.json);
  std::cout << "wrote " << o.json;
  if (write_plot({"Memory per block, one training step on " + size_text(o.input) + " (preset " +
                      b.preset + (dims == 3 ? ", 3D" : "") + ")",
                  "block boundary: forward, then backward", "MiB above the step's start", series},
                 stem + ".png")) {
    std::cout << ", " << stem << ".png";
  }
  std::cout << "\n";
}

CLI::App* add_segmentation_bench(CLI::App& bench, const std::string& name,
                                 const std::string& description,
                                 std::shared_ptr<SegmentationBench> b) {
  auto* cmd = bench.add_subcommand(name, description);
  add_common_bench_options(cmd, b->o, "bench-" + name + ".json");
  const bool volume = b->o.input.size() == 5;
  cmd->get_option("--input")
      ->expected(static_cast<int>(b->o.input.size()))
      ->description(volume ? "Input shape N C D H W" : "Input shape N C H W");
  cmd->add_option("--preset", b->preset, "Segmentation preset")->capture_default_str();
  cmd->add_option("--classes", b->classes, "Classes")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  cmd->add_option("--blocks", b->blocks, "Blocks per stage, overriding the preset's (e.g. 8,2,2)")
      ->delimiter(',');
  cmd->add_option("--archs", b->archs,
                  "Architectures to measure (the ratios need revup-memsave and resnet-fixup)")
      ->delimiter(',')
      ->check(CLI::IsMember({"revup-memsave", "revup", "resnet-fixup"}))
      ->capture_default_str();
  cmd->callback([b] { run_segmentation_bench(*b); });
  return cmd;
}

}  // namespace

void add_bench_segmentation(CLI::App& bench) {
  auto image = std::make_shared<SegmentationBench>();
  image->o.input = {1, 3, 2160, 3840};
  image->classes = 5;  // the demo scene's
  add_segmentation_bench(bench, "seg",
                         "Peak memory of a full-resolution segmentation training step, three ways",
                         image);
  // ch2 with the AAL atlas: 181x217x181 voxels at 1 mm, 116 regions + background.
  auto volume = std::make_shared<SegmentationBench>();
  volume->o.input = {1, 1, 181, 217, 181};
  volume->classes = 117;
  volume->target = 0.3;
  add_segmentation_bench(
      bench, "seg3d",
      "Peak memory of a whole-volume 3D segmentation training step, three ways (default: ch2's "
      "size with the AAL atlas's 117 classes)",
      volume);
}

}  // namespace revup::cli
