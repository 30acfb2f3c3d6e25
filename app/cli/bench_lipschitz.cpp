// revup-cli bench lipschitz: does every block stay invertible while it trains?
// Ordinary training, one power iteration per step (P = 1) at the default
// learning rates: a CIFAR-style RevUp-20 on Fashion-MNIST and the `cpu`
// segmentation preset on the demo scene. After the first steps (the learning
// rate's peak) and every k steps, each normalized conv's true operator norm
// (models/lipschitz_audit: transfer matrices on a fine frequency grid, not the
// estimator) and each block's Lip(g) bound, at the divisors the next step uses.
#include <torch/torch.h>

#include <filesystem>
#include <map>

#include "app/cli/bench_common.h"
#include "app/cli/progress_bar.h"
#include "io/channel_stats.h"
#include "io/demo_scene.h"
#include "io/idx_dataset.h"
#include "models/lipschitz_audit.h"
#include "models/network.h"
#include "models/segmentation_loss.h"
#include "models/segmentation_presets.h"
#include "models/state_utils.h"
#include "workflows/training_run.h"

namespace revup::cli {
namespace {

struct LipschitzOptions {
  BenchOptions bench;
  std::string fashion_mnist = "/usr/share/datasets/fashion-mnist";
  int64_t classifier_steps = 300, segmentation_steps = 200, every = 25, grid = 128;
  int64_t scene = 256;  // the demo scene's side for the segmentation run
};

// The worst conv of each kernel size, and every check, over one training run.
class AuditObserver : public TrainObserver {
 public:
  AuditObserver(torch::nn::Module& net, std::string model, const LipschitzOptions& o,
                int64_t total_steps, nlohmann::json& per_kind, ProgressBar& bar)
      : net_(net),
        model_(std::move(model)),
        o_(o),
        total_(total_steps),
        per_kind_(per_kind),
        bar_(bar) {}

  void on_step(const StepReport& s) override {
    ++step_;
    bar_.update(step_, model_);
    // The first steps follow the learning rate's peak (cosine starts there).
    if (step_ > 5 && step_ % o_.every != 0 && step_ != total_) return;
    const auto audit = audit_lipschitz(net_, o_.grid);
    double estimated = 0;
    for (const auto& b : audit.blocks) {
      for (const auto& c : b.convs) {
        estimated = std::max(estimated, c.estimated_sigma / c.coeff);
        const std::string kind =
            std::to_string(c.kernel_size) + "x" + std::to_string(c.kernel_size);
        auto& k = per_kind_[kind];
        const double ratio = c.true_sigma / c.coeff;
        if (!k.contains("max_true_sigma_over_c") ||
            ratio > k["max_true_sigma_over_c"].get<double>()) {
          k = {{"max_true_sigma_over_c", ratio},
               {"step", step_},
               {"conv", c.name},
               {"model", model_},
               {"lr", s.lr}};
        }
      }
    }
    checks_.push_back({{"step", step_},
                       {"lr", s.lr},
                       {"loss", s.loss},
                       {"max_true_sigma_over_c", audit.max_sigma_over_c},
                       {"max_estimated_sigma_over_c", estimated},
                       {"worst_conv", audit.worst_conv},
                       {"max_block_lipschitz", audit.max_block_bound},
                       {"worst_block", audit.worst_block}});
    max_ratio_ = std::max(max_ratio_, audit.max_sigma_over_c);
    max_block_ = std::max(max_block_, audit.max_block_bound);
  }

  nlohmann::json report() const {
    return {{"model", model_},
            {"steps", step_},
            {"max_true_sigma_over_c", max_ratio_},
            {"max_block_lipschitz", max_block_},
            {"checks", checks_}};
  }
  double max_ratio() const { return max_ratio_; }
  double max_block() const { return max_block_; }

 private:
  torch::nn::Module& net_;
  std::string model_;
  const LipschitzOptions& o_;
  int64_t total_, step_ = 0;
  nlohmann::json& per_kind_;
  ProgressBar& bar_;
  nlohmann::json checks_ = nlohmann::json::array();
  double max_ratio_ = 0, max_block_ = 0;
};

// Trains with the audit watching every step; the worst figures join the totals.
struct AuditTotals {
  nlohmann::json per_kind = nlohmann::json::object();
  double ratio = 0, block = 0;
};

nlohmann::json audited_fit(Trainer& trainer, torch::nn::Module& net, const Dataset& data,
                           const std::string& model, int64_t steps, const LipschitzOptions& o,
                           AuditTotals& totals) {
  ProgressBar bar("bench lipschitz", steps);
  AuditObserver audit(net, model, o, steps, totals.per_kind, bar);
  trainer.add_observer(&audit);
  trainer.fit(data);
  bar.finish();
  totals.ratio = std::max(totals.ratio, audit.max_ratio());
  totals.block = std::max(totals.block, audit.max_block());
  return audit.report();
}

// RevUp-20 w/ MemSave on Fashion-MNIST, train-classifier's defaults.
nlohmann::json classifier_run(const LipschitzOptions& o, const c10::Device& device,
                              AuditTotals& totals) {
  namespace fs = std::filesystem;
  const auto path = [&](const char* name) { return (fs::path(o.fashion_mnist) / name).string(); };
  IdxClassificationDataset train(path("train-images-idx3-ubyte.gz"),
                                 path("train-labels-idx1-ubyte.gz"), o.classifier_steps * 128);
  train.normalize(train.images().mean().item<double>(), train.images().std().item<double>());
  torch::manual_seed(o.bench.seed);
  ModelConfig c;
  c.arch = "revup-memsave";
  c.depth = 20;
  c.in_channels = 1;
  c.num_classes = 10;
  Network net(c);
  net->to(device);
  TrainerOptions t;
  t.epochs = 1;
  t.batch_size = 128;
  t.lr = 0.1;
  t.weight_decay = 5e-4;
  t.clip_grad_norm = 1.0;
  t.schedule = LrSchedule::kCosine;
  t.seed = o.bench.seed;
  t.steps_per_epoch = o.classifier_steps;
  t.device = device;
  Trainer trainer(
      trainable(net),
      [](const torch::Tensor& out, const torch::Tensor& target) {
        return torch::nn::functional::cross_entropy(out, target);
      },
      t);
  return audited_fit(trainer, *net, train, "RevUp-20 (MemSave), Fashion-MNIST, lr 0.1",
                     o.classifier_steps, o, totals);
}

// The cpu preset on the demo scene, the demo's learning rate (train's is lower).
nlohmann::json segmentation_run(const LipschitzOptions& o, const c10::Device& device,
                                AuditTotals& totals) {
  const auto scene = make_demo_scene(o.scene, o.scene, o.bench.seed + 1);
  const SingleExample data(demo_scene_example(scene, demo_scene_stats(scene)));
  torch::manual_seed(o.bench.seed);
  SegmentationNet net(
      segmentation_preset("cpu", 3, static_cast<int64_t>(scene.class_names.size())));
  net->to(device);
  TrainerOptions t;
  t.epochs = static_cast<int>(o.segmentation_steps);  // one image: a step per epoch
  t.batch_size = 1;
  t.lr = 0.05;
  t.weight_decay = 1e-4;
  t.schedule = LrSchedule::kCosine;
  t.seed = o.bench.seed;
  t.device = device;
  auto objective = training_objective(net, {});
  Trainer trainer(objective.model, objective.loss, t);
  return audited_fit(trainer, *net, data, "cpu preset (RevUp-26, MemSave), demo scene, lr 0.05",
                     o.segmentation_steps, o, totals);
}

}  // namespace

void add_bench_lipschitz(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "lipschitz", "True operator norms of the normalized convs while training with P = 1");
  auto o = std::make_shared<LipschitzOptions>();
  add_common_bench_options(cmd, o->bench, "bench-lipschitz.json");
  cmd->add_option("--data", o->fashion_mnist, "Fashion-MNIST folder (IDX files)")
      ->capture_default_str();
  cmd->add_option("--classifier-steps", o->classifier_steps, "Steps of RevUp-20 (batch 128)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--segmentation-steps", o->segmentation_steps, "Steps of the cpu preset")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--scene", o->scene, "Side of the demo scene for the segmentation run")
      ->check(CLI::Range(64, 4096))
      ->capture_default_str();
  cmd->add_option("--every", o->every, "Check every k steps (and the first five)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--grid", o->grid,
                  "Frequency grid of the true norm (an upper bound: finer is tighter)")
      ->check(CLI::Range(8, 512))
      ->capture_default_str();
  cmd->callback([o] {
    const auto device = select_device(o->bench.device);
    nlohmann::json report = bench_header(o->bench, device);
    AuditTotals totals;
    report["grid"] = o->grid;
    report["runs"] = nlohmann::json::array();
    if (o->classifier_steps > 0) {
      report["runs"].push_back(classifier_run(*o, device, totals));
    }
    if (o->segmentation_steps > 0) {
      report["runs"].push_back(segmentation_run(*o, device, totals));
    }
    report["max_true_sigma_over_c"] = totals.ratio;
    report["max_block_lipschitz"] = totals.block;
    report["per_kind"] = totals.per_kind;
    report["keys"] = {
        {"max_true_sigma_over_c",
         "largest ||normalized conv||_2 / c over every check of every run; the norm is an upper "
         "bound at any input size (transfer matrices on a grid x grid frequency grid times the "
         "sampling margin), computed independently of the power iteration"},
        {"max_block_lipschitz",
         "largest bound on Lip(g) of an invertible block (product of its "
         "convs' true norms, Fixup's scale included); must stay below 1"},
        {"per_kind", "the worst conv per kernel size, with the step and model where it occurred"},
        {"max_estimated_sigma_over_c",
         "the same conv norms as the estimator itself sees them (sigma_bound at its probe)"}};
    write_json(o->bench.json, report);
    std::printf("largest true sigma / c %.4f, largest block Lip(g) %.4f (must be < 1); %s\n",
                totals.ratio, totals.block, o->bench.json.c_str());
  });
}

}  // namespace revup::cli
