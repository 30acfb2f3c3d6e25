// revup-cli bench speed: median training-step time per architecture, and its
// ratio to ResNet+Fixup, measured in the same run.
#include <torch/torch.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <iostream>
#include <memory>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"

namespace revup::cli {

void add_bench_speed(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("speed", "Median training-step time per architecture");
  auto o = std::make_shared<BenchOptions>();
  o->input = {128, 3, 32, 32};
  add_common_bench_options(cmd, *o, "bench-speed.json");
  auto archs = std::make_shared<std::vector<std::string>>(architecture_names());
  auto depth = std::make_shared<int>(20);
  auto steps = std::make_shared<int>(5);
  auto trace = std::make_shared<std::string>();
  cmd->add_option("--archs", *archs, "Architectures (space or comma separated)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--depth", *depth, "Depth")->capture_default_str();
  cmd->add_option("--steps", *steps, "Timed steps per architecture (after one warm-up)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--trace", *trace,
                  "Also write each architecture's last step as a Chrome trace (PREFIX-ARCH.json: "
                  "every LibTorch op with its time; open in chrome://tracing or Perfetto)");
  cmd->callback([o, archs, depth, steps, trace] {
    const auto device = select_device(o->device);
    struct Candidate {
      Network net;
      torch::Tensor x, y;
      std::unique_ptr<torch::optim::Optimizer> optimizer;  // momentum carries over, as in training
      std::vector<double> times;
    };
    std::vector<Candidate> candidates;
    for (const auto& arch : *archs) {
      auto net = make_network(arch, *depth, o->input[1], o->seed, device);
      auto [x, y] = random_batch(o->input, net->config().num_classes, device);
      auto optimizer = measurement_optimizer(*net);
      candidates.push_back({net, x, y, std::move(optimizer), {}});
    }
    ProgressBar bar("bench speed",
                    static_cast<int64_t>(archs->size()) * (*steps + 1 + (trace->empty() ? 0 : 1)));
    int64_t done = 0;
    // Round robin, one step of each architecture in turn: a shared machine's
    // load drifts over seconds, and interleaving spreads that drift over all
    // candidates instead of biasing whichever ran during a busy spell.
    // With --trace, one more round after the timed ones, profiled: the
    // profiler slows every op a little.
    const int rounds = *steps + (trace->empty() ? 0 : 1);
    for (int s = 0; s <= rounds; ++s) {
      for (size_t a = 0; a < candidates.size(); ++a) {
        auto& c = candidates[a];
        std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
        if (s > *steps) {
          profile = std::make_unique<torch::autograd::profiler::RecordProfile>(
              *trace + "-" + (*archs)[a] + ".json");
        }
        const auto m =
            measure_training_step(c.net, c.x, c.y, /*record_timeline=*/false, c.optimizer.get());
        if (s > 0 && s <= *steps) c.times.push_back(m.seconds);  // the first warms caches up
        bar.update(++done, (*archs)[a]);
      }
    }
    nlohmann::json results = nlohmann::json::array();
    double reference = 0;
    const std::vector<double>* reference_times = nullptr;
    for (size_t a = 0; a < candidates.size(); ++a) {
      const double med = median(candidates[a].times);
      if ((*archs)[a] == "resnet-fixup") {
        reference = med;
        reference_times = &candidates[a].times;
      }
      results.push_back({{"arch", (*archs)[a]},
                         {"depth", *depth},
                         {"median_step_seconds", med},
                         {"step_seconds", candidates[a].times}});
    }
    bar.finish();
    for (size_t a = 0; a < candidates.size(); ++a) {
      auto& r = results[a];
      std::string ratio_text;
      if (reference > 0) {
        r["ratio_to_resnet_fixup"] = r["median_step_seconds"].get<double>() / reference;
        // Each round's two steps ran back to back: their ratio cancels a load
        // that drifts over the run, which the ratio of medians does not.
        std::vector<double> paired;
        for (size_t s = 0; s < candidates[a].times.size(); ++s) {
          paired.push_back(candidates[a].times[s] / (*reference_times)[s]);
        }
        r["paired_ratio_to_resnet_fixup"] = median(paired);
        char text[96];
        std::snprintf(text, sizeof text, "   x%.3f of resnet-fixup (paired by round: x%.3f)",
                      r["ratio_to_resnet_fixup"].get<double>(), median(paired));
        ratio_text = text;
      }
      std::printf("%-18s median %.3f s%s\n", r["arch"].get<std::string>().c_str(),
                  r["median_step_seconds"].get<double>(), ratio_text.c_str());
    }
    nlohmann::json report = bench_header(*o, device);
    report["depth"] = *depth;
    report["results"] = results;
    report["keys"] = {
        {"median_step_seconds",
         "median wall time of one training step: forward, backward, optimizer step"},
        {"ratio_to_resnet_fixup", "median_step_seconds / that of resnet-fixup, same run"},
        {"paired_ratio_to_resnet_fixup",
         "median over rounds of this step's time / resnet-fixup's step in the same round (the "
         "steps take turns, so each pair ran back to back under the same load)"}};
    write_json(o->json, report);
    std::cout << "wrote " << o->json << "\n";
  });
}

}  // namespace revup::cli
