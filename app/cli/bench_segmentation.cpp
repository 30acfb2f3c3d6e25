// revup-cli bench seg: one full-resolution training step of the segmentation
// network (default: the cpu preset on 3840x2160), with MemSave, without
// MemSave, and as ResNet+Fixup of the same depth, widths and decoder, all in
// one run. Target: MemSave's whole step <= 0.25 x ResNet+Fixup's.
#include <torch/torch.h>

#include <iostream>
#include <map>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_presets.h"

namespace revup::cli {
namespace {
constexpr double kTarget = 0.25;  // MemSave / ResNet+Fixup, whole step
}  // namespace

void add_bench_segmentation(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "seg", "Peak memory of a full-resolution segmentation training step, three ways");
  auto o = std::make_shared<BenchOptions>();
  o->input = {1, 3, 2160, 3840};
  add_common_bench_options(cmd, *o, "bench-seg.json");
  auto preset = std::make_shared<std::string>("cpu");
  auto classes = std::make_shared<int64_t>(5);
  cmd->add_option("--preset", *preset, "Segmentation preset")->capture_default_str();
  cmd->add_option("--classes", *classes, "Classes (the demo scene has 5)")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  auto blocks = std::make_shared<std::vector<int>>();
  cmd->add_option("--blocks", *blocks, "Blocks per stage, overriding the preset's (e.g. 8,2,2)")
      ->delimiter(',');
  cmd->callback([o, preset, classes, blocks] {
    const auto device = select_device(o->device);
    auto config = segmentation_preset(*preset, o->input[1], *classes);
    if (!blocks->empty()) {
      config.backbone.blocks = *blocks;
      config.preset += " (blocks overridden)";
      config.validate();
    }
    torch::manual_seed(o->seed);
    const auto x = torch::randn(o->input);
    const auto y = torch::randint(0, *classes, {o->input[0], o->input[2], o->input[3]},
                                  torch::TensorOptions().dtype(torch::kLong));
    const std::vector<std::pair<std::string, std::string>> archs = {
        {"revup-memsave", "RevUp (MemSave)"},
        {"revup", "RevUp without MemSave"},
        {"resnet-fixup", "ResNet+Fixup"}};
    nlohmann::json report = bench_header(*o, device);
    report["preset"] = *preset;
    report["model"] = config.to_json();
    report["classes"] = *classes;
    std::vector<PlotSeries> series;
    std::map<std::string, double> peak;
    ProgressBar bar("bench seg", static_cast<int64_t>(archs.size()));
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
    const double ratio = peak["revup-memsave"] / peak["resnet-fixup"];
    report["ratios"] = {{"memsave_over_resnet_fixup", ratio},
                        {"memsave_over_no_memsave", peak["revup-memsave"] / peak["revup"]},
                        {"target_memsave_over_resnet_fixup", kTarget},
                        {"target_met", ratio <= kTarget}};
    auto keys = step_keys();
    keys["whole_step_peak_bytes"] = keys["whole_step_peak_bytes"].get<std::string>() +
                                    "; the input and labels are part of what was live before";
    keys["ratios"] = "of whole_step_peak_bytes";
    keys["input"] =
        "random N(0,1) pixels and uniform random labels: memory does not depend on the values";
    report["keys"] = keys;
    std::printf("%-24s %-14s %-18s %s\n", "", "whole step", "activation peak", "step");
    for (const auto& r : report["results"]) {
      std::printf("%-24s %-14s %-18s %.1f s\n", r["arch"].get<std::string>().c_str(),
                  format_bytes(r["whole_step_peak_bytes"].get<double>()).c_str(),
                  format_bytes(r["activation_peak_bytes"].get<double>()).c_str(),
                  r["step_seconds"].get<double>());
    }
    std::printf("MemSave / ResNet+Fixup, whole step = %.3f (target <= %.2f: %s)\n", ratio, kTarget,
                ratio <= kTarget ? "met" : "NOT met");
    write_json(o->json, report);
    const auto stem = output_stem(o->json);
    std::cout << "wrote " << o->json;
    if (write_plot({"Memory per block, one training step on " + std::to_string(o->input[3]) + "x" +
                        std::to_string(o->input[2]) + " (preset " + *preset + ")",
                    "block boundary: forward, then backward", "MiB above the step's start", series},
                   stem + ".png")) {
      std::cout << ", " << stem << ".png";
    }
    std::cout << "\n";
  });
}

}  // namespace revup::cli
