#include "app/cli/bench_common.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/memory_tracker.h"
#include "core/torch_compat.h"

namespace revup::cli {

std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device) {
  auto x = torch::randn(shape, torch::TensorOptions().device(device));
  auto y = torch::randint(0, classes, {shape[0]},
                          torch::TensorOptions().device(device).dtype(torch::kLong));
  return {x, y};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void add_common_bench_options(CLI::App* cmd, BenchOptions& o, const std::string& default_json) {
  o.json = default_json;
  cmd->add_option("--json", o.json, "Write the results to this JSON file")->capture_default_str();
  cmd->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--input", o.input, "Input shape N C H W")->expected(4)->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed")->capture_default_str();
}

void add_scene_bench_options(CLI::App* cmd, BenchOptions& o, std::string& preset, int64_t& width,
                             int64_t& height) {
  cmd->add_option("--json", o.json, "Write the results to this JSON file")->capture_default_str();
  cmd->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed")->capture_default_str();
  cmd->add_option("--preset", preset, "Segmentation preset")->capture_default_str();
  cmd->add_option("--width", width, "Scene width")
      ->check(CLI::Range(64, 16384))
      ->capture_default_str();
  cmd->add_option("--height", height, "Scene height")
      ->check(CLI::Range(64, 16384))
      ->capture_default_str();
}

nlohmann::json bench_header(const BenchOptions& o, const c10::Device& device) {
  return {
      {"device", device.str()},
      {"threads", torch::get_num_threads()},
      {"libtorch", compat::torch_version()},
      {"input", o.input},
      {"seed", o.seed},
      {"memory_source", device.is_cpu() ? "RevUp's counting CPU allocator (exact bytes)"
                                        : "CUDA caching allocator statistics (allocated bytes)"}};
}

std::string output_stem(const std::string& json_path) {
  const auto dot = json_path.rfind('.');
  const auto slash = json_path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return json_path;
  return json_path.substr(0, dot);
}

Network make_network(const std::string& arch, int depth, int64_t in_channels, uint64_t seed,
                     const c10::Device& device) {
  torch::manual_seed(seed);
  ModelConfig c;
  c.arch = arch;
  c.depth = depth;
  c.in_channels = in_channels;
  Network net(c);
  net->to(device);
  return net;
}

nlohmann::json step_json(const StepMeasurement& m) {
  return {{"whole_step_peak_bytes", m.whole_step_peak_bytes},
          {"peak_bytes", m.peak_bytes},
          {"activation_peak_bytes", m.activation_peak_bytes},
          {"live_before_bytes", m.live_before_bytes},
          {"optimizer_state_bytes", m.optimizer_state_bytes},
          {"state_bytes", m.state_bytes},
          {"step_seconds", m.seconds}};
}

nlohmann::json step_keys() {
  return {{"whole_step_peak_bytes",
           "allocator peak of one whole training step: forward, backward and the optimizer's "
           "step, with the weights, gradients and optimizer state live before it (exact bytes, "
           "not RSS; a later step, so SGD's momentum buffers exist)"},
          {"peak_bytes", "allocator peak of the same step's forward and backward alone"},
          {"activation_peak_bytes", "peak_bytes minus live_before_bytes"},
          {"live_before_bytes", "allocator bytes live when the step began"},
          {"optimizer_state_bytes", "the optimizer's state, part of live_before_bytes"},
          {"state_bytes",
           "weights, gradients and optimizer state, part of live_before_bytes (the rest is the "
           "input and labels)"},
          {"step_seconds", "wall time of the whole step"},
          {"timeline", "bytes above live_before after each block, forward then backward"}};
}

PlotSeries timeline_series(const std::string& name, const StepMeasurement& m) {
  PlotSeries s{name, {}};
  for (const auto& e : m.timeline) {
    s.y.push_back(to_mib(static_cast<double>(e.live_bytes - m.live_before_bytes)));
  }
  return s;
}

nlohmann::json memory_ratios(const nlohmann::json& results) {
  auto find = [&](const std::string& arch, int depth) -> double {
    for (const auto& r : results) {
      if (r["arch"] == arch && r["depth"] == depth) return r["activation_peak_bytes"].get<double>();
    }
    return 0;
  };
  int lo = 1 << 30, hi = 0;
  for (const auto& r : results) {
    lo = std::min(lo, r["depth"].get<int>());
    hi = std::max(hi, r["depth"].get<int>());
  }
  nlohmann::json out;
  const double ms_lo = find("revup-memsave", lo), ms_hi = find("revup-memsave", hi);
  const double fixup_hi = find("resnet-fixup", hi);
  if (ms_lo > 0 && ms_hi > 0) {
    out["memsave_depth" + std::to_string(hi) + "_over_depth" + std::to_string(lo)] = ms_hi / ms_lo;
  }
  if (ms_hi > 0 && fixup_hi > 0) {
    out["memsave_over_resnet_fixup_depth" + std::to_string(hi)] = ms_hi / fixup_hi;
  }
  return out;
}

}  // namespace revup::cli
