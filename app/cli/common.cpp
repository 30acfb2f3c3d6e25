#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "app/cli/commands.h"
#include "core/atomic_file.h"
#include "workflows/run_folder.h"

namespace revup::cli {
namespace fs = std::filesystem;

void add_training_options(CLI::App* cmd, TrainingBasics& run) {
  cmd->add_option("--epochs", run.epochs, "Epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lr", run.lr, "Learning rate (Fixup scalars get lr/10; cosine schedule)")
      ->capture_default_str();
  cmd->add_option("--weight-decay", run.weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--clip-grad", run.clip_grad, "Clip the global gradient norm to this (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", run.seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", run.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--resume", run.resume, "Continue the run in --out from its last.pt");
  cmd->add_option("--accumulate", run.accumulate,
                  "Batches whose gradients add up before each optimizer step (a larger "
                  "effective batch at the memory of one)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--backend", run.parallel.backend,
                  "Under torchrun: how the ranks communicate (auto: NCCL for --device cuda where "
                  "this build has it, else Gloo)")
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}))
      ->capture_default_str();
  cmd->add_option_function<int>(
         "--dist-timeout",
         [&run](int seconds) { run.parallel.timeout = std::chrono::seconds(seconds); },
         "Under torchrun: seconds a rank waits for the others before it stops with an error "
         "(default 300)")
      ->check(CLI::PositiveNumber);
}

void report_stopped(const std::string& run_dir, bool saved, int completed_epochs) {
  if (saved) {
    std::printf("\nstopped: %s holds epoch %d; continue with --resume\n",
                RunFolder(run_dir).path(RunFolder::kLastCheckpoint).c_str(), completed_epochs);
  } else {
    std::printf("\nstopped before the first epoch finished: nothing saved\n");
  }
  throw std::runtime_error("interrupted");
}

void write_json(const std::string& path, const nlohmann::json& j) {
  write_text_atomically(path, j.dump(2) + "\n");
}

void ignore_file_size_signal() { std::signal(SIGXFSZ, SIG_IGN); }

}  // namespace revup::cli
