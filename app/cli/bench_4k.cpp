// revup-cli bench 4k: RevUp-50 with MemSave on one 3x2160x4096 image, one
// training step; ResNet-50+Fixup measured at 3x1080x2048 and extrapolated x4,
// as the paper did (flagged as extrapolated).
#include <torch/torch.h>

#include <iostream>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"

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
    report["revup_memsave"] = {
        {"arch", "revup-memsave"},
        {"depth", *depth},
        {"input", o->input},
        {"peak_bytes", revup.peak_bytes},
        {"activation_peak_bytes", revup.activation_peak_bytes},
        {"step_seconds", revup.seconds},
        {"timeline", timeline_json(revup.timeline, revup.live_before_bytes)}};
    std::printf("RevUp-%d MemSave, %lldx%lld: peak %s (step %.1f s)\n", *depth,
                static_cast<long long>(o->input[2]), static_cast<long long>(o->input[3]),
                format_bytes(static_cast<double>(revup.peak_bytes)).c_str(), revup.seconds);
    if (!*skip_baseline) {
      auto half = o->input;
      half[2] /= 2;
      half[3] /= 2;
      const auto fixup = run("resnet-fixup", half);
      const double extrapolated = static_cast<double>(fixup.live_before_bytes) +
                                  4.0 * static_cast<double>(fixup.activation_peak_bytes);
      report["resnet_fixup"] = {
          {"arch", "resnet-fixup"},
          {"depth", *depth},
          {"measured_input", half},
          {"measured_peak_bytes", fixup.peak_bytes},
          {"measured_activation_peak_bytes", fixup.activation_peak_bytes},
          {"peak_bytes", extrapolated},
          {"extrapolated", true},
          {"extrapolation", "weights+grads + 4 x activation peak at half width and height"}};
      report["revup_over_resnet_fixup"] = static_cast<double>(revup.peak_bytes) / extrapolated;
      std::printf("ResNet-%d+Fixup, %lldx%lld measured: peak %s; extrapolated to full size: %s\n",
                  *depth, static_cast<long long>(half[2]), static_cast<long long>(half[3]),
                  format_bytes(static_cast<double>(fixup.peak_bytes)).c_str(),
                  format_bytes(extrapolated).c_str());
    }
    report["keys"] = {{"peak_bytes", "allocator peak of one training step (exact bytes, not RSS)"},
                      {"extrapolated", "true when the number was not measured at this size"}};
    write_json(o->json, report);
    std::cout << "wrote " << o->json << "\n";
  });
}

}  // namespace revup::cli
