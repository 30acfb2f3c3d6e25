// revup-cli bench memory: activation memory of one training step versus depth,
// for every architecture (the paper's Figures 6 and 7 and its Table of peaks).
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "core/atomic_file.h"

namespace revup::cli {

void add_bench_memory(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("memory", "Activation memory of one training step versus depth");
  auto o = std::make_shared<BenchOptions>();
  o->input = {128, 3, 32, 32};
  add_common_bench_options(cmd, *o, "bench-memory.json");
  auto archs = std::make_shared<std::vector<std::string>>(architecture_names());
  auto depths = std::make_shared<std::vector<int>>(std::vector<int>{20, 32, 56, 110});
  cmd->add_option("--archs", *archs, "Architectures (space or comma separated)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--depths", *depths, "Depths")->capture_default_str();
  cmd->callback([o, archs, depths] {
    const auto device = select_device(o->device);
    nlohmann::json results = nlohmann::json::array();
    std::string csv = "arch,depth,phase,stage,block,index,bytes\n";
    std::vector<PlotSeries> deepest;
    ProgressBar bar("bench memory", static_cast<int64_t>(archs->size() * depths->size()));
    int64_t done = 0;
    std::cout << "arch                depth   whole step    activation peak\n";
    for (const auto& arch : *archs) {
      for (int depth : *depths) {
        auto net = make_network(arch, depth, o->input[1], o->seed, device);
        const auto [x, y] = random_batch(o->input, net->config().num_classes, device);
        const auto m = measure_training_step(net, x, y);
        auto result = step_json(m);
        result.update({{"arch", arch},
                       {"depth", depth},
                       {"input", o->input},
                       {"timeline", timeline_json(m.timeline, m.live_before_bytes)}});
        results.push_back(result);
        for (size_t i = 0; i < m.timeline.size(); ++i) {
          const auto& e = m.timeline[i];
          csv += arch + "," + std::to_string(depth) + "," + phase_name(e.phase) + "," +
                 std::to_string(e.stage) + "," + std::to_string(e.block) + "," + std::to_string(i) +
                 "," + std::to_string(e.live_bytes - m.live_before_bytes) + "\n";
        }
        if (depth == depths->back()) deepest.push_back(timeline_series(arch, m));
        std::printf("%-18s %5d   %-12s  %s\n", arch.c_str(), depth,
                    format_bytes(static_cast<double>(m.whole_step_peak_bytes)).c_str(),
                    format_bytes(static_cast<double>(m.activation_peak_bytes)).c_str());
        bar.update(++done, arch + "-" + std::to_string(depth));
      }
    }
    bar.finish();
    nlohmann::json report = bench_header(*o, device);
    report["results"] = results;
    report["ratios"] = memory_ratios(results);
    report["keys"] = step_keys();
    write_json(o->json, report);
    const auto stem = output_stem(o->json);
    write_text_atomically(stem + ".csv", csv);
    std::cout << "\nratios: " << report["ratios"].dump(2) << "\n";
    std::cout << "wrote " << o->json << ", " << stem << ".csv";
    if (write_plot(
            {"Memory per block, one training step (depth " + std::to_string(depths->back()) + ")",
             "block boundary: forward, then backward", "MiB above the step's start", deepest},
            stem + ".png")) {
      std::cout << ", " << stem << ".png";
    }
    std::cout << "\n";
  });
}

}  // namespace revup::cli
