// revup-cli bench 4k: RevUp-50 with MemSave on one 3x2160x4096 image, one
// whole training step (optimizer included); ResNet-50+Fixup measured at
// 3x1080x2048 and extrapolated x4, as the paper did (flagged as extrapolated).
#include <torch/torch.h>

#include <iostream>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "core/memory_tracker.h"

namespace revup::cli {

void add_bench_4k(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("4k", "Peak memory of one training step on a 4K image");
  auto o = std::make_shared<BenchOptions>();
  o->input = {1, 3, 2160, 4096};
  add_common_bench_options(cmd, *o, "bench-4k.json");
  auto depth = std::make_shared<int>(50);
  auto skip_baseline = std::make_shared<bool>(false);
  cmd->add_option("--depth", *depth, "ImageNet-style depth (18, 34, 50, 101)")
      ->capture_default_str();
  cmd->add_flag("--skip-baseline", *skip_baseline, "Do not measure ResNet+Fixup");
  cmd->callback([o, depth, skip_baseline] {
    const auto device = select_device(o->device);
    nlohmann::json report = bench_header(*o, device);
    auto run = [&](const std::string& arch, std::vector<int64_t> shape) {
      auto net = make_network(arch, *depth, shape[1], o->seed, device);
      const auto [x, y] = random_batch(shape, net->config().num_classes, device);
      std::cerr << "one training step of " << arch << "-" << *depth << " on " << shape[2] << "x"
                << shape[3] << " ...\n";
      return measure_training_step(net, x, y);
    };
    const auto revup = run("revup-memsave", o->input);
    report["revup_memsave"] = step_json(revup);
    report["revup_memsave"].update(
        {{"arch", "revup-memsave"},
         {"depth", *depth},
         {"input", o->input},
         {"timeline", timeline_json(revup.timeline, revup.live_before_bytes)}});
    std::printf("RevUp-%d MemSave, %lldx%lld: whole step %s (forward+backward %s; step %.1f s)\n",
                *depth, static_cast<long long>(o->input[2]), static_cast<long long>(o->input[3]),
                format_bytes(static_cast<double>(revup.whole_step_peak_bytes)).c_str(),
                format_bytes(static_cast<double>(revup.peak_bytes)).c_str(), revup.seconds);
    if (!*skip_baseline) {
      auto half = o->input;
      half[2] /= 2;
      half[3] /= 2;
      const auto fixup = run("resnet-fixup", half);
      // What does not grow with the image stays; what does grows with its area.
      const auto extrapolate = [&](std::int64_t peak) {
        return static_cast<double>(fixup.live_before_bytes) +
               4.0 * static_cast<double>(peak - fixup.live_before_bytes);
      };
      const double whole = extrapolate(fixup.whole_step_peak_bytes);
      report["resnet_fixup"] = {
          {"arch", "resnet-fixup"},
          {"depth", *depth},
          {"measured_input", half},
          {"measured", step_json(fixup)},
          {"whole_step_peak_bytes", whole},
          {"peak_bytes", extrapolate(fixup.peak_bytes)},
          {"extrapolated", true},
          {"extrapolation",
           "live before the step (weights, gradients, momentum) + 4 x what the step added, "
           "measured at half width and height"}};
      report["revup_over_resnet_fixup"] = static_cast<double>(revup.whole_step_peak_bytes) / whole;
      std::printf(
          "ResNet-%d+Fixup, %lldx%lld measured: whole step %s; extrapolated to full size: "
          "%s\n",
          *depth, static_cast<long long>(half[2]), static_cast<long long>(half[3]),
          format_bytes(static_cast<double>(fixup.whole_step_peak_bytes)).c_str(),
          format_bytes(whole).c_str());
    }
    // Memory the allocator does not see (oneDNN scratch, BLAS buffers, the
    // libraries themselves) shows here; the allocator's bytes stay the metric.
    report["process_rss_high_water_bytes"] = MemoryTracker::process_rss_high_water_bytes();
    std::printf(
        "process RSS high-water mark: %s (everything the process touched, not the metric)\n",
        format_bytes(static_cast<double>(report["process_rss_high_water_bytes"].get<double>()))
            .c_str());
    auto keys = step_keys();
    keys["extrapolated"] = "true when the number was not measured at this size";
    keys["process_rss_high_water_bytes"] =
        "the process's resident-set high-water mark (getrusage), for comparison only: it "
        "includes libraries, the input and memory LibTorch's allocator does not see";
    report["keys"] = keys;
    write_json(o->json, report);
    std::cout << "wrote " << o->json << "\n";
  });
}

}  // namespace revup::cli
