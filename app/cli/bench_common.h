#pragma once
// What the benchmark subcommands share: options, the JSON header, plotting.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "models/network_steps.h"
#include "models/segmentation_net.h"
#include "ui/charts/plot.h"

namespace revup::cli {

struct BenchOptions {
  std::string device = "cpu";
  std::string json;
  std::vector<int64_t> input;
  uint64_t seed = 0;
};

void add_common_bench_options(CLI::App* cmd, BenchOptions& o, const std::string& default_json);
// --json, --device, --seed, --preset, --width and --height of a benchmark
// that trains a segmentation preset on the demo scene.
void add_scene_bench_options(CLI::App* cmd, BenchOptions& o, std::string& preset, int64_t& width,
                             int64_t& height);
nlohmann::json bench_header(const BenchOptions& o, const c10::Device& device);
std::string output_stem(const std::string& json_path);  // "out/x.json" -> "out/x"

// A random input and label batch of the given NCHW shape on `device`.
std::pair<torch::Tensor, torch::Tensor> random_batch(const std::vector<int64_t>& shape,
                                                     int64_t classes, c10::Device device);
double median(std::vector<double> values);

// A network of the paper's family, seeded, on `device`.
Network make_network(const std::string& arch, int depth, int64_t in_channels, uint64_t seed,
                     const c10::Device& device);

// A measured step's memory and time as JSON (whole_step_peak_bytes, peak_bytes,
// activation_peak_bytes, live_before_bytes, optimizer_state_bytes,
// step_seconds), and what each of those keys means.
nlohmann::json step_json(const StepMeasurement& m);
nlohmann::json step_keys();

PlotSeries timeline_series(const std::string& name, const StepMeasurement& m);
// MemSave depth flatness and MemSave vs ResNet+Fixup at the deepest depth.
nlohmann::json memory_ratios(const nlohmann::json& results);

void add_bench_memory(CLI::App& bench);
void add_bench_speed(CLI::App& bench);
void add_bench_4k(CLI::App& bench);
void add_bench_invert(CLI::App& bench);
void add_bench_segmentation(CLI::App& bench);
void add_bench_raster(CLI::App& bench);       // needs io (plugins)
void add_bench_lipschitz(CLI::App& bench);    // needs io (Fashion-MNIST, the demo scene)
void add_bench_soak(CLI::App& bench);         // needs io (the demo scene)
void add_bench_distributed(CLI::App& bench);  // needs io (the demo scene)
}  // namespace revup::cli
