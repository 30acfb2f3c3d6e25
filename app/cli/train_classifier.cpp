// revup-cli train-classifier: trains a RevUp (or baseline) classifier on
// Fashion-MNIST's IDX files; progress bar, atomic checkpoints, exact resume,
// Ctrl-C stops cleanly after the last completed epoch's checkpoint.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/console_observer.h"
#include "workflows/run_folder.h"
#if REVUP_HAVE_IO_BOOL
#include "workflows/classifier_training.h"
#endif

namespace revup::cli {
namespace {

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "runs/fashion-mnist";
  std::string arch = "revup-memsave";
  std::string device = "cpu";
  int depth = 20;
  int epochs = 2;
  int64_t batch_size = 128;
  double lr = 0.1;
  double weight_decay = 5e-4;
  double clip_grad_norm = 1.0;
  int64_t limit_train = 0, limit_test = 0;
  uint64_t seed = 0;
  bool resume = false;
  std::string json;
};

#if REVUP_HAVE_IO_BOOL
// The workflow's start line, then the console's progress bar.
class ConsoleClassifierTraining : public ClassifierTrainingObserver {
 public:
  explicit ConsoleClassifierTraining(const Options& o)
      : o_(o), console_(o.epochs, {"test_accuracy"}) {}
  void on_start(const ClassifierTrainingStart& start) override {
    if (o_.resume) {
      std::cout << "resuming " << RunFolder(o_.out).path(RunFolder::kLastCheckpoint)
                << " after epoch " << start.resumed_after_epoch << "\n";
    }
    std::printf("training %s-%d on %zu Fashion-MNIST images (%zu test), %d epochs, %d threads\n",
                o_.arch.c_str(), o_.depth, start.train, start.test, o_.epochs,
                torch::get_num_threads());
  }
  void on_step(const StepReport& s) override { console_.on_step(s); }
  void on_epoch(const EpochReport& e) override { console_.on_epoch(e); }
  bool cancel_requested() override { return console_.cancel_requested(); }

 private:
  const Options& o_;
  ConsoleTrainObserver console_;
};

void run(const Options& o) {
  ClassifierTrainingRequest request;
  request.data = o.data;
  request.run_dir = o.out;
  request.resume = o.resume;
  request.arch = o.arch;
  request.depth = o.depth;
  request.epochs = o.epochs;
  request.batch_size = o.batch_size;
  request.lr = o.lr;
  request.weight_decay = o.weight_decay;
  request.clip_grad = o.clip_grad_norm;
  request.limit_train = o.limit_train;
  request.limit_test = o.limit_test;
  request.seed = o.seed;
  request.device = o.device;
  ConsoleClassifierTraining console(o);
  const auto result = train_classifier(request, console);
  if (!result.finished) {
    std::cout << "\nstopped: " << RunFolder(o.out).path(RunFolder::kLastCheckpoint)
              << " holds epoch " << result.completed_epochs << "; continue with --resume\n";
    throw std::runtime_error("interrupted");
  }
  if (!o.json.empty()) {
    write_json(o.json, {{"arch", o.arch},
                        {"depth", o.depth},
                        {"epochs", o.epochs},
                        {"test_accuracy", result.last_metrics.at("test_accuracy")},
                        {"run", o.out}});
  }
  std::cout << "done: " << o.out << " (config.json, metrics.csv, last.pt, best.pt)\n";
}
#endif

}  // namespace

void add_train_classifier_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("train-classifier", "Train a classifier on Fashion-MNIST (IDX files)");
  auto o = std::make_shared<Options>();
  cmd->add_option("--data", o->data, "Folder with the four IDX(.gz) files")->capture_default_str();
  cmd->add_option("--out", o->out, "Run folder (config.json, metrics.csv, last.pt)")
      ->capture_default_str();
  cmd->add_option("--arch", o->arch,
                  "resnet, resnet-fixup, resnet-fixup-ckpt, revup, revup-memsave")
      ->capture_default_str();
  cmd->add_option("--depth", o->depth, "CIFAR-style depth 6n+2")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "Learning rate (Fixup scalars get lr/10)")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--clip-grad", o->clip_grad_norm,
                  "Clip the global gradient norm to this (0: off); ResNet+Fixup diverges "
                  "on Fashion-MNIST at lr 0.1 without it")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--limit-train", o->limit_train, "Use only the first N training images")
      ->capture_default_str();
  cmd->add_option("--limit-test", o->limit_test, "Use only the first N test images")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--json", o->json, "Write the final metrics here");
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its last checkpoint");
  cmd->callback([o] {
#if REVUP_HAVE_IO_BOOL
    run(*o);
#else
    throw std::runtime_error("this build has no IDX reader (built without zlib)");
#endif
  });
}

}  // namespace revup::cli
