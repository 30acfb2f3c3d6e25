// revup-cli bench distributed: data-parallel training's scaling on this
// machine (issue 18). The same images are trained on by 1 process, then by N
// processes with the gradient sum after backward, then by N processes with the
// sum overlapping backward; every process uses one thread (--threads). Each
// phase is real training through the workflow revup-cli train uses, the
// ranks launched here as torchrun would (RANK, WORLD_SIZE, MASTER_ADDR, ...
// on loopback): this program runs itself as the workers.
//   images/s          examples per step / median step time (rank 0's)
//   scaling_efficiency  images/s of N overlapped processes / (N x 1 process)
//   overlap share     1 - the communication the overlapped steps still wait
//                     for / what the non-overlapped ones wait for (medians)
//   per-rank peak     the allocator's peak in a step, against 1 process's:
//                     the difference is the gradient buckets (one copy of
//                     the gradients) and Gloo's own buffers
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "core/distributed_environment.h"
#include "core/memory_tracker.h"
#include "io/demo_scene.h"
#include "workflows/segmentation_training.h"

namespace revup::cli {
namespace {
namespace fs = std::filesystem;

constexpr int kImagesPerProcess = 4;

struct DistributedBenchOptions {
  BenchOptions bench;
  std::string preset = "cpu";
  int64_t width = 1024, height = 768;
  int processes = 2, threads = 1, steps = 12, warmup = 3;
  // Worker side (set by the launcher, hidden from --help).
  std::string worker_json;
  bool overlap = true;
};

// A worker's record of its steps after warm-up.
class StepRecorder : public SegmentationTrainingObserver {
 public:
  StepRecorder(int warmup, int total) : warmup_(warmup), total_(total) {}
  void on_step(const StepReport& s) override {
    if (++done_ > total_) return;  // ranks stop together, one step after the last wanted
    // The launcher reads rank 0's progress from this line.
    std::printf("step %d of %d\n", done_, total_);
    std::fflush(stdout);
    if (done_ <= warmup_) return;
    seconds.push_back(s.seconds);
    communication.push_back(s.communication_seconds);
    peak.push_back(static_cast<double>(s.peak_bytes));
  }
  bool cancel_requested() override { return done_ >= total_; }

  std::vector<double> seconds, communication, peak;

 private:
  int warmup_, total_, done_ = 0;
};

// One worker: trains `warmup + steps` steps on the bench's images, alone or
// as the rank its environment names, and writes what it measured.
void run_worker(const DistributedBenchOptions& o) {
  torch::set_num_threads(o.threads);
  const auto env = DistributedEnvironment::from_environment();
  const int ranks = env ? env->world_size : 1;
  // Four images per process: every phase trains on the same ones.
  std::vector<Example> examples;
  ChannelStats stats;
  ClassTable classes;
  for (int i = 0; i < kImagesPerProcess * o.processes; ++i) {
    const auto scene = make_demo_scene(o.height, o.width, o.bench.seed + static_cast<uint64_t>(i));
    if (i == 0) {
      stats = demo_scene_stats(scene);
      classes = demo_scene_classes(scene);
    }
    examples.push_back(demo_scene_example(scene, stats));
  }
  const ExampleList train(std::move(examples));
  const int total = o.warmup + o.steps;
  const int steps_per_epoch = static_cast<int>(train.size()) / ranks;

  SegmentationTrainingRequest request;
  // One run folder for the phase (rank 0 writes it), beside the ranks' own.
  request.run.run_dir = fs::path(o.worker_json).parent_path().parent_path() / "run";
  request.run.epochs = (total + steps_per_epoch - 1) / steps_per_epoch + 1;
  request.run.lr = 0.02;
  request.run.seed = o.bench.seed;
  request.run.device = o.bench.device;
  request.run.parallel.overlap_backward = o.overlap;
  request.run.parallel.timeout = std::chrono::seconds(120);
  request.model.preset = o.preset;
  request.augment = false;  // the same work in every step
  SegmentationTrainingData data;
  data.train = &train;
  data.classes = classes;
  data.stats = stats;
  data.description = {{"path", "built-in demo scenes"}, {"width", o.width}, {"height", o.height}};
  StepRecorder recorder(o.warmup, total);
  const auto result = train_segmentation(request, data, recorder);
  if (recorder.seconds.empty()) throw std::runtime_error("no step was measured");

  std::int64_t gradient_bytes = 0;
  for (const auto& p : result.net ? result.net->parameters() : std::vector<torch::Tensor>{}) {
    if (p.requires_grad()) gradient_bytes += static_cast<std::int64_t>(p.nbytes());
  }
  const nlohmann::json report = {{"rank", env ? env->rank : 0},
                                 {"processes", ranks},
                                 {"examples_per_step", ranks},
                                 {"step_seconds", recorder.seconds},
                                 {"communication_seconds", recorder.communication},
                                 {"peak_bytes", recorder.peak},
                                 {"gradient_bytes", gradient_bytes}};
  write_json(o.worker_json, report);
}

// Runs this program as `processes` workers (ranks on loopback when more than
// one), showing rank 0's progress; returns each rank's report.
std::vector<nlohmann::json> run_phase(const DistributedBenchOptions& o, int processes, bool overlap,
                                      const fs::path& dir, ProgressBar& bar, int64_t& done,
                                      const std::string& label) {
  fs::create_directories(dir);
  const int port = free_loopback_port();
  std::vector<pid_t> pids;
  int progress_fd = -1;
  for (int r = 0; r < processes; ++r) {
    const auto rank_dir = dir / ("rank-" + std::to_string(r));
    fs::create_directories(rank_dir);
    int pipe_fds[2] = {-1, -1};
    if (r == 0 && ::pipe(pipe_fds) != 0) throw std::runtime_error("could not open a pipe");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("could not start a worker process");
    if (pid == 0) {
      if (processes > 1) {
        const std::string vars[][2] = {{"RANK", std::to_string(r)},
                                       {"LOCAL_RANK", std::to_string(r)},
                                       {"WORLD_SIZE", std::to_string(processes)},
                                       {"LOCAL_WORLD_SIZE", std::to_string(processes)},
                                       {"MASTER_ADDR", "127.0.0.1"},
                                       {"MASTER_PORT", std::to_string(port)}};
        for (const auto& [name, value] : vars) ::setenv(name.c_str(), value.c_str(), 1);
      }
      const auto log = (rank_dir / "output.log").string();
      std::FILE* out = std::freopen(log.c_str(), "w", stderr);
      if (r == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
      } else if (out) {
        ::dup2(STDERR_FILENO, STDOUT_FILENO);
      }
      const std::vector<std::string> args = {"revup-cli",
                                             "bench",
                                             "distributed",
                                             "--worker-json",
                                             (rank_dir / "report.json").string(),
                                             "--overlap",
                                             overlap ? "1" : "0",
                                             "--preset",
                                             o.preset,
                                             "--width",
                                             std::to_string(o.width),
                                             "--height",
                                             std::to_string(o.height),
                                             "--processes",
                                             std::to_string(o.processes),
                                             "--threads",
                                             std::to_string(o.threads),
                                             "--steps",
                                             std::to_string(o.steps),
                                             "--warmup",
                                             std::to_string(o.warmup),
                                             "--seed",
                                             std::to_string(o.bench.seed),
                                             "--device",
                                             o.bench.device};
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::perror("execv /proc/self/exe");
      ::_exit(127);
    }
    if (r == 0) {
      ::close(pipe_fds[1]);
      progress_fd = pipe_fds[0];
    }
    pids.push_back(pid);
  }
  // Rank 0's "step S of T" lines move the bar until its output closes.
  std::FILE* progress = ::fdopen(progress_fd, "r");
  char line[256];
  int64_t phase_done = 0;
  while (progress && std::fgets(line, sizeof line, progress)) {
    int step = 0, total = 0;
    if (std::sscanf(line, "step %d of %d", &step, &total) == 2 && step > phase_done) {
      done += step - phase_done;
      phase_done = step;
      bar.update(done, label);
    }
  }
  if (progress) std::fclose(progress);
  std::string failures;
  for (int r = 0; r < processes; ++r) {
    int status = 0;
    ::waitpid(pids[static_cast<size_t>(r)], &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    std::ifstream log(dir / ("rank-" + std::to_string(r)) / "output.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    failures += "\nrank " + std::to_string(r) + " (" + label + ") failed:\n" + text;
  }
  if (!failures.empty()) throw std::runtime_error("a benchmark worker failed" + failures);
  std::vector<nlohmann::json> reports;
  for (int r = 0; r < processes; ++r) {
    std::ifstream in(dir / ("rank-" + std::to_string(r)) / "report.json");
    reports.push_back(nlohmann::json::parse(in));
  }
  return reports;
}

nlohmann::json phase_summary(const std::vector<nlohmann::json>& reports) {
  const auto& r0 = reports.front();
  const double step = median(r0["step_seconds"].get<std::vector<double>>());
  nlohmann::json peaks = nlohmann::json::array();
  for (const auto& r : reports) {
    const auto p = r["peak_bytes"].get<std::vector<double>>();
    peaks.push_back(*std::max_element(p.begin(), p.end()) / kBytesPerMiB);
  }
  return {{"processes", r0["processes"]},
          {"median_step_seconds", step},
          {"images_per_second", r0["examples_per_step"].get<double>() / step},
          {"median_communication_seconds",
           median(r0["communication_seconds"].get<std::vector<double>>())},
          {"peak_mib_per_rank", peaks},
          {"step_seconds", r0["step_seconds"]}};
}

void run_launcher(const DistributedBenchOptions& o) {
  if (!data_parallel_unavailable().empty()) {
    throw std::runtime_error("bench distributed: " + data_parallel_unavailable());
  }
  const auto device = select_device(o.bench.device);
  const auto dir =
      fs::temp_directory_path() / ("revup-bench-distributed-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::printf(
      "bench distributed: the %s preset on %d demo scenes of %lldx%lld, %d thread(s) per "
      "process: 1 process, then %d without and with overlap (%d + %d steps each)\n",
      o.preset.c_str(), kImagesPerProcess * o.processes, static_cast<long long>(o.width),
      static_cast<long long>(o.height), o.threads, o.processes, o.warmup, o.steps);
  ProgressBar bar("bench distributed", 3LL * (o.warmup + o.steps));
  int64_t done = 0;
  nlohmann::json one, blocking, overlapped;
  try {
    one = phase_summary(run_phase(o, 1, true, dir / "one", bar, done, "1 process"));
    blocking = phase_summary(run_phase(o, o.processes, false, dir / "blocking", bar, done,
                                       std::to_string(o.processes) + " processes, no overlap"));
    overlapped = phase_summary(run_phase(o, o.processes, true, dir / "overlapped", bar, done,
                                         std::to_string(o.processes) + " processes, overlap"));
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  const auto gradient_bytes = [&] {
    std::ifstream in(dir / "one" / "rank-0" / "report.json");
    return nlohmann::json::parse(in)["gradient_bytes"].get<double>();
  }();
  fs::remove_all(dir);
  bar.finish();

  const double ips1 = one["images_per_second"].get<double>();
  const double efficiency = overlapped["images_per_second"].get<double>() / (o.processes * ips1);
  const double waited_blocking = blocking["median_communication_seconds"].get<double>();
  const double waited_overlapped = overlapped["median_communication_seconds"].get<double>();
  const double overlap_share =
      waited_blocking > 0 ? std::clamp(1.0 - waited_overlapped / waited_blocking, 0.0, 1.0) : 0.0;
  const double peak_one = one["peak_mib_per_rank"][0].get<double>();
  double peak_ranks = 0;
  for (const auto& p : overlapped["peak_mib_per_rank"])
    peak_ranks = std::max(peak_ranks, p.get<double>());

  nlohmann::json report = bench_header(o.bench, device);
  report.erase("input");
  report["threads"] = o.threads;
  report.update(
      {{"preset", o.preset},
       {"image", {o.width, o.height}},
       {"images", kImagesPerProcess * o.processes},
       {"processes", o.processes},
       {"warmup_steps", o.warmup},
       {"timed_steps", o.steps},
       {"scaling_efficiency", efficiency},
       {"scaling_efficiency_without_overlap",
        blocking["images_per_second"].get<double>() / (o.processes * ips1)},
       {"overlap_share", overlap_share},
       {"peak_mib_one_process", peak_one},
       {"peak_mib_per_rank_max", peak_ranks},
       {"peak_difference_mib", peak_ranks - peak_one},
       {"gradient_bucket_mib", gradient_bytes / kBytesPerMiB},
       {"phases", {{"one_process", one}, {"no_overlap", blocking}, {"overlap", overlapped}}}});
  report["keys"] = {
      {"images_per_second",
       "examples per optimizer step / median step time of rank 0, after warm-up"},
      {"scaling_efficiency",
       "images_per_second of the overlapped processes / (processes x that of one process); "
       "the target is 0.85 or more"},
      {"overlap_share",
       "1 - median communication the overlapped steps waited for after backward / that of the "
       "steps without overlap: the share of the gradient sum hidden behind backward"},
      {"peak_difference_mib",
       "a rank's allocator peak in a step minus one process's; the gradient buckets "
       "(gradient_bucket_mib, one copy of the gradients) and Gloo's buffers account for it"}};
  std::printf("1 process:               %.3f images/s (step %.3f s)\n", ips1,
              one["median_step_seconds"].get<double>());
  std::printf("%d processes, no overlap: %.3f images/s (waits %.1f ms for the sum)\n", o.processes,
              blocking["images_per_second"].get<double>(), 1000 * waited_blocking);
  std::printf("%d processes, overlap:    %.3f images/s (waits %.1f ms)\n", o.processes,
              overlapped["images_per_second"].get<double>(), 1000 * waited_overlapped);
  std::printf("scaling efficiency %.3f (target 0.85), overlap share %.2f\n", efficiency,
              overlap_share);
  std::printf(
      "peak per rank %.1f MiB, one process %.1f MiB (+%.2f MiB; gradient buckets %.2f MiB)\n",
      peak_ranks, peak_one, peak_ranks - peak_one, gradient_bytes / kBytesPerMiB);
  write_json(o.bench.json, report);
  std::cout << "wrote " << o.bench.json << "\n";
}

}  // namespace

void add_bench_distributed(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "distributed",
      "Data-parallel scaling: images/s of 1 and N processes, overlap of the gradient sum with "
      "backward, per-rank peak memory");
  auto o = std::make_shared<DistributedBenchOptions>();
  o->bench.json = "bench-distributed.json";
  add_scene_bench_options(cmd, o->bench, o->preset, o->width, o->height);
  cmd->add_option("--processes", o->processes, "Processes of the data-parallel phases")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "LibTorch threads per process")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "Timed steps per phase")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Steps before the timed ones")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--worker-json", o->worker_json)->group("");  // the launcher's workers
  cmd->add_option("--overlap", o->overlap)->group("");
  cmd->callback([o] {
    if (o->worker_json.empty()) {
      check_output_folder(o->bench.json);  // before minutes of training, not after
      run_launcher(*o);
    } else {
      run_worker(*o);
    }
  });
}

}  // namespace revup::cli
