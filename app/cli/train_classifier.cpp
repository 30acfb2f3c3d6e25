// revup-cli train-classifier: trains a RevUp (or baseline) classifier on
// Fashion-MNIST's IDX files; progress bar, atomic checkpoints, exact resume,
// Ctrl-C stops cleanly after the last completed epoch's checkpoint.
#include <torch/torch.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/atomic_file.h"
#include "core/trainer.h"
#include "models/network.h"
#if REVUP_HAVE_IO_BOOL
#include "io/idx_dataset.h"
#endif

namespace revup::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

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
class ConsoleObserver : public TrainObserver {
 public:
  ConsoleObserver(int epochs, std::string csv_path, std::string ckpt_path, Trainer*& trainer)
      : epochs_(epochs),
        csv_path_(std::move(csv_path)),
        ckpt_path_(std::move(ckpt_path)),
        trainer_(trainer) {}
  void on_step(const StepReport& s) override {
    if (!bar_ || s.step == 1)
      bar_ = std::make_unique<ProgressBar>(
          "epoch " + std::to_string(s.epoch) + "/" + std::to_string(epochs_), s.steps_in_epoch);
    loss_ = s.step == 1 ? s.loss : 0.9 * loss_ + 0.1 * s.loss;
    char status[128];
    std::snprintf(status, sizeof status, "loss %.4f  peak %s", loss_,
                  format_bytes(static_cast<double>(s.peak_bytes)).c_str());
    bar_->update(s.step, status);
  }
  void on_epoch(const EpochReport& r) override {
    if (bar_) bar_->finish();
    bar_.reset();
    const double acc = r.metrics.count("test_accuracy") ? r.metrics.at("test_accuracy") : 0.0;
    std::printf("epoch %d: train loss %.4f, test accuracy %.2f %%, %s, peak %s\n", r.epoch,
                r.train_loss, 100 * acc, format_duration(r.seconds).c_str(),
                format_bytes(static_cast<double>(r.peak_bytes)).c_str());
    std::fflush(stdout);
    csv_ += std::to_string(r.epoch) + "," + std::to_string(r.train_loss) + "," +
            std::to_string(acc) + "," + std::to_string(r.seconds) + "," +
            std::to_string(r.peak_bytes) + "\n";
    write_text_atomically(csv_path_, csv_);
    trainer_->save_checkpoint(ckpt_path_);
    last_accuracy = acc;
  }
  bool cancel_requested() override { return g_interrupted.load(); }
  void set_csv(std::string csv) { csv_ = std::move(csv); }
  double last_accuracy = 0;

 private:
  int epochs_;
  std::string csv_path_, ckpt_path_, csv_;
  Trainer*& trainer_;
  double loss_ = 0;
  std::unique_ptr<ProgressBar> bar_;
};

double accuracy(Network& net, const IdxClassificationDataset& test, c10::Device device) {
  int64_t correct = 0;
  const int64_t n = test.labels().size(0);
  for (int64_t i = 0; i < n; i += 500) {
    const int64_t len = std::min<int64_t>(500, n - i);
    const auto logits = net->forward(test.images().narrow(0, i, len).to(device));
    correct += logits.argmax(1).cpu().eq(test.labels().narrow(0, i, len)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

void run(const Options& o) {
  namespace fs = std::filesystem;
  const auto device = select_device(o.device);
  const auto path = [&](const char* name) { return (fs::path(o.data) / name).string(); };
  IdxClassificationDataset train(path("train-images-idx3-ubyte.gz"),
                                 path("train-labels-idx1-ubyte.gz"), o.limit_train);
  IdxClassificationDataset test(path("t10k-images-idx3-ubyte.gz"),
                                path("t10k-labels-idx1-ubyte.gz"), o.limit_test);
  // Statistics of the training images, stored with the run and applied to both sets.
  const double mean = train.images().mean().item<double>();
  const double std = train.images().std().item<double>();
  train.normalize(mean, std);
  test.normalize(mean, std);
  fs::create_directories(o.out);
  const auto ckpt = (fs::path(o.out) / "last.pt").string();
  const auto csv = (fs::path(o.out) / "metrics.csv").string();
  if (!o.resume && fs::exists(ckpt)) {
    throw std::runtime_error(ckpt +
                             " exists: pass --resume to continue it, or choose another --out");
  }

  torch::manual_seed(o.seed);
  ModelConfig c;
  c.arch = o.arch;
  c.depth = o.depth;
  c.in_channels = 1;
  c.num_classes = 10;
  Network net(c);
  net->to(device);
  TrainerOptions t;
  t.epochs = o.epochs;
  t.batch_size = o.batch_size;
  t.lr = o.lr;
  t.weight_decay = o.weight_decay;
  t.clip_grad_norm = o.clip_grad_norm;
  t.seed = o.seed;
  t.device = device;
  t.schedule = LrSchedule::kCosine;
  write_json((fs::path(o.out) / "config.json").string(),
             {{"model", c.to_json()},
              {"training",
               {{"epochs", o.epochs},
                {"batch_size", o.batch_size},
                {"lr", o.lr},
                {"weight_decay", o.weight_decay},
                {"clip_grad_norm", o.clip_grad_norm},
                {"schedule", "cosine"},
                {"seed", o.seed},
                {"scalar_lr_factor", t.scalar_lr_factor}}},
              {"data", {{"path", o.data}, {"train", train.size()}, {"test", test.size()}}},
              {"normalization", {{"mean", {mean}}, {"std", {std}}}}});

  Trainer* trainer_ptr = nullptr;
  Trainer trainer(
      {net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward(x); },
       net->weight_parameters(), net->scalar_parameters()},
      [](const torch::Tensor& out, const torch::Tensor& target) {
        return torch::nn::functional::cross_entropy(out, target);
      },
      t);
  trainer_ptr = &trainer;
  ConsoleObserver console(o.epochs, csv, ckpt, trainer_ptr);
  std::string csv_text = "epoch,train_loss,test_accuracy,seconds,peak_bytes\n";
  if (o.resume && fs::exists(ckpt)) {
    trainer.load_checkpoint(ckpt);
    std::ifstream old(csv);
    if (old) csv_text.assign(std::istreambuf_iterator<char>(old), {});
    std::cout << "resuming " << ckpt << " after epoch " << trainer.completed_epochs() << "\n";
  }
  console.set_csv(csv_text);
  trainer.add_observer(&console);
  trainer.set_evaluation([&] {
    return std::map<std::string, double>{{"test_accuracy", accuracy(net, test, device)}};
  });

  std::signal(SIGINT, on_sigint);
  std::printf("training %s-%d on %zu Fashion-MNIST images (%zu test), %d epochs, %d threads\n",
              o.arch.c_str(), o.depth, train.size(), test.size(), o.epochs,
              torch::get_num_threads());
  const bool finished = trainer.fit(train);
  std::signal(SIGINT, SIG_DFL);
  if (!finished) {
    std::cout << "\nstopped: " << ckpt << " holds epoch " << trainer.completed_epochs()
              << "; continue with --resume\n";
    throw std::runtime_error("interrupted");
  }
  if (!o.json.empty()) {
    write_json(o.json, {{"arch", o.arch},
                        {"depth", o.depth},
                        {"epochs", o.epochs},
                        {"test_accuracy", console.last_accuracy},
                        {"run", o.out}});
  }
  std::cout << "done: " << o.out << " (config.json, metrics.csv, last.pt)\n";
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
