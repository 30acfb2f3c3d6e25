// revup-cli bench soak: a long training run that looks for leaks and
// slowdowns (issue 17). N steps of a preset on the demo scene through the
// demo's own workflow (train_segmentation: augmentation, SGD, a checkpoint and
// a metrics row after every step, as the demo's one-image epochs write them).
// Per step: the allocator's live bytes when the step began (the previous
// step's leftovers), the step's peak, the process's RSS and the step's time.
// After warm-up the live bytes must come back to exactly one value at every
// step, RSS must grow by less than a stated bound (its slope in MiB per 1000
// steps is reported), and the step time's trend is given: first against last
// tenth of the run, and its slope. --no-augment tells a slowdown apart from
// what the augmentation's turns and flips cost.
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "app/cli/bench_common.h"
#include "app/cli/console_training.h"
#include "core/memory_tracker.h"
#include "io/demo_scene.h"
#include "workflows/segmentation_training.h"

namespace revup::cli {
namespace {
namespace fs = std::filesystem;

struct SoakOptions {
  BenchOptions bench;
  std::string preset = "cpu", out;
  int64_t width = 3840, height = 2160;
  int steps = 2000, warmup = 20;
  bool augment = true;
  double rss_bound_mib = 32.0;
};

// Resident set size now (not the high-water mark): what a leak outside the
// tensor allocator (Qt, OpenCV, a growing vector) shows up in.
std::int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
}

// Least-squares slope of y over its index.
double slope(const std::vector<double>& y) {
  const double n = static_cast<double>(y.size());
  if (n < 2) return 0.0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    sx += i;
    sy += y[i];
    sxx += static_cast<double>(i) * i;
    sxy += i * y[i];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

std::vector<double> tail_from(const std::vector<double>& v, size_t first) {
  return {v.begin() + static_cast<std::ptrdiff_t>(std::min(first, v.size())), v.end()};
}

class SoakRecorder : public SegmentationTrainingObserver {
 public:
  explicit SoakRecorder(int steps) : console_(steps, {}, /*print_start=*/false) {}
  void on_step(const StepReport& s) override {
    console_.on_step(s);
    seconds.push_back(s.seconds);
    live_before.push_back(static_cast<double>(s.live_before_bytes));
    activation_peak.push_back(static_cast<double>(s.peak_bytes - s.live_before_bytes));
    rss.push_back(static_cast<double>(rss_bytes()));
  }
  void on_epoch(const EpochReport& e) override { console_.on_epoch(e); }
  bool cancel_requested() override { return console_.cancel_requested(); }

  std::vector<double> seconds, live_before, activation_peak, rss;

 private:
  ConsoleTraining console_;
};

nlohmann::json live_bytes_report(const std::vector<double>& live_after_warmup) {
  const std::set<double> distinct(live_after_warmup.begin(), live_after_warmup.end());
  nlohmann::json j = {{"distinct_values", distinct.size()}, {"constant", distinct.size() == 1}};
  if (!distinct.empty()) {
    j["min_bytes"] = *distinct.begin();
    j["max_bytes"] = *distinct.rbegin();
  }
  return j;
}

nlohmann::json rss_report(const std::vector<double>& rss_after_warmup, double bound_mib) {
  if (rss_after_warmup.empty()) return nlohmann::json::object();
  const auto [lo, hi] = std::minmax_element(rss_after_warmup.begin(), rss_after_warmup.end());
  const double growth = (rss_after_warmup.back() - rss_after_warmup.front()) / kBytesPerMiB;
  return {{"after_warmup_mib", rss_after_warmup.front() / kBytesPerMiB},
          {"last_mib", rss_after_warmup.back() / kBytesPerMiB},
          {"range_mib", (*hi - *lo) / kBytesPerMiB},
          {"growth_mib", growth},
          {"slope_mib_per_1000_steps", slope(rss_after_warmup) * 1000 / kBytesPerMiB},
          {"bound_mib", bound_mib},
          {"within_bound", (*hi - rss_after_warmup.front()) / kBytesPerMiB <= bound_mib}};
}

nlohmann::json step_time_report(const std::vector<double>& seconds) {
  const size_t tenth = std::max<size_t>(1, seconds.size() / 10);
  const double first = median({seconds.begin(), seconds.begin() + tenth});
  const double last = median({seconds.end() - tenth, seconds.end()});
  return {{"median", median(seconds)},
          {"first_tenth_median", first},
          {"last_tenth_median", last},
          {"last_over_first", last / first},
          {"slope_seconds_per_1000_steps", slope(seconds) * 1000}};
}

void run_soak(const SoakOptions& o) {
  const auto device = select_device(o.bench.device);
  if (o.warmup >= o.steps) throw std::invalid_argument("--warmup must be below --steps");
  const auto scene = make_demo_scene(o.height, o.width, o.bench.seed);
  const auto stats = demo_scene_stats(scene);
  const SingleExample train(demo_scene_example(scene, stats));
  const std::string run_dir =
      o.out.empty()
          ? (fs::temp_directory_path() / ("revup-soak-" + std::to_string(::getpid()))).string()
          : o.out;
  if (o.out.empty()) fs::remove_all(run_dir);

  SegmentationTrainingRequest request;
  request.run.run_dir = run_dir;
  request.run.epochs = o.steps;  // one image: one step per epoch, as in the demo
  request.run.lr = 0.05;
  request.run.seed = o.bench.seed;
  request.run.device = o.bench.device;
  request.model.preset = o.preset;
  request.augment = o.augment;
  SegmentationTrainingData data;
  data.train = &train;
  data.classes = demo_scene_classes(scene);
  data.stats = stats;
  data.description = {{"path", "built-in demo scene"}, {"width", o.width}, {"height", o.height}};
  std::printf("soak: %d steps of the %s preset on the %lldx%lld demo scene (%s), run in %s\n",
              o.steps, o.preset.c_str(), static_cast<long long>(o.width),
              static_cast<long long>(o.height), o.augment ? "augmented" : "no augmentation",
              run_dir.c_str());
  SoakRecorder recorder(o.steps);
  const auto result = train_segmentation(request, data, recorder);
  if (o.out.empty()) fs::remove_all(run_dir);
  const size_t steps = recorder.seconds.size();
  if (steps <= static_cast<size_t>(o.warmup)) {
    throw std::runtime_error("stopped after " + std::to_string(steps) +
                             " steps, before the warm-up ended: nothing to report");
  }

  // A step's leftovers are what the next step finds live when it begins.
  const auto live_after = tail_from(recorder.live_before, o.warmup + 1);
  const auto rss_after = tail_from(recorder.rss, o.warmup);
  const auto seconds = tail_from(recorder.seconds, o.warmup);
  nlohmann::json report = bench_header(o.bench, device);
  report.erase("input");
  report.update({{"preset", o.preset},
                 {"image", {o.width, o.height}},
                 {"augment", o.augment},
                 {"steps", steps},
                 {"finished", result.finished},
                 {"warmup_steps", o.warmup},
                 {"live_bytes_after_step", live_bytes_report(live_after)},
                 {"rss", rss_report(rss_after, o.rss_bound_mib)},
                 {"step_seconds", step_time_report(seconds)},
                 {"per_step",
                  {{"seconds", recorder.seconds},
                   {"live_before_bytes", recorder.live_before},
                   {"activation_peak_bytes", recorder.activation_peak},
                   {"rss_bytes", recorder.rss}}}});
  report["no_leak"] = report["live_bytes_after_step"]["constant"].get<bool>() &&
                      report["rss"]["within_bound"].get<bool>();
  report["keys"] = {
      {"live_bytes_after_step",
       "allocator bytes live between steps, after warm-up: one value "
       "when nothing accumulates"},
      {"rss", "the process's resident set after each step, after warm-up (MiB = 2^20 bytes)"},
      {"step_seconds", "the trainer's step time after warm-up (checkpoint writes excluded)"}};

  const auto& live = report["live_bytes_after_step"];
  const auto& r = report["rss"];
  const auto& t = report["step_seconds"];
  std::printf("live bytes between steps: %s (%zu distinct value%s after %d warm-up steps)\n",
              live["constant"].get<bool>() ? "constant" : "NOT constant",
              live["distinct_values"].get<size_t>(),
              live["distinct_values"].get<size_t>() == 1 ? "" : "s", o.warmup);
  std::printf("RSS: %.1f -> %.1f MiB, slope %.2f MiB per 1000 steps (bound %.0f MiB: %s)\n",
              r["after_warmup_mib"].get<double>(), r["last_mib"].get<double>(),
              r["slope_mib_per_1000_steps"].get<double>(), o.rss_bound_mib,
              r["within_bound"].get<bool>() ? "within" : "EXCEEDED");
  std::printf("step time: median %.2f s, first tenth %.2f s, last tenth %.2f s (x%.3f)\n",
              t["median"].get<double>(), t["first_tenth_median"].get<double>(),
              t["last_tenth_median"].get<double>(), t["last_over_first"].get<double>());
  write_json(o.bench.json, report);
  std::vector<double> rss_mib, live_mib;
  for (double v : recorder.rss) rss_mib.push_back(v / kBytesPerMiB);
  for (double v : recorder.live_before) live_mib.push_back(v / kBytesPerMiB);
  const auto plot = output_stem(o.bench.json) + ".png";
  std::cout << "wrote " << o.bench.json;
  if (write_plot({"Memory over a long training run (" + o.preset + " preset, " +
                      std::to_string(o.width) + "x" + std::to_string(o.height) + ")",
                  "training step",
                  "MiB",
                  {{"process RSS", rss_mib}, {"allocator live between steps", live_mib}}},
                 plot)) {
    std::cout << ", " << plot;
  }
  std::cout << "\n";
}

}  // namespace

void add_bench_soak(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "soak", "A long training run on the demo scene: leaks (allocator, RSS) and slowdowns");
  auto o = std::make_shared<SoakOptions>();
  o->bench.json = "bench-soak.json";
  add_scene_bench_options(cmd, o->bench, o->preset, o->width, o->height);
  cmd->add_option("--steps", o->steps, "Training steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Steps left out of the trends (allocator warm-up)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("!--no-augment", o->augment, "Turn off flips, 90-degree turns and jitter");
  cmd->add_option("--rss-bound", o->rss_bound_mib, "Allowed RSS growth after warm-up, MiB")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Keep the run folder here (default: a temporary one, removed)");
  cmd->callback([o] {
    if (!o->out.empty()) check_output_folder(o->out, /*may_create=*/true);
    check_output_folder(o->bench.json);
    run_soak(*o);
  });
}

}  // namespace revup::cli
