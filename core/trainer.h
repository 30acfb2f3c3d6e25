#pragma once
// A generic training loop: any module, any Dataset, any loss. SGD with momentum
// and weight decay; Fixup's scalars in their own parameter group at lr/10; step
// or cosine schedule; seeded and reproducible; exact resume at epoch boundaries.
// Progress, metrics and memory leave through TrainObserver, so the CLI and the
// GUI show the same training without the core knowing either.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data_parallel_group.h"
#include "core/dataset.h"
#include "core/memory_timeline.h"
#include "core/overlapped_gradient_sum.h"

namespace revup {

enum class LrSchedule { kConstant, kStep, kCosine };

struct TrainerOptions {
  int epochs = 1;
  int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  double scalar_lr_factor = 0.1;  // Fixup: biases and scales at lr/10
  LrSchedule schedule = LrSchedule::kStep;
  std::vector<int> milestones;  // epochs where kStep multiplies lr by gamma
  double gamma = 0.1;
  // Rescales gradients whose global norm exceeds this (0: off). Without
  // BatchNorm a ResNet+Fixup can blow up early at lr 0.1 (measured on
  // Fashion-MNIST: the loss explodes within the first 50 steps); clipping keeps
  // the comparison about the architectures, not about one unlucky step.
  double clip_grad_norm = 0.0;
  uint64_t seed = 0;
  int64_t steps_per_epoch = 0;  // 0: the whole dataset each epoch
  // Batches whose gradients add up before one optimizer step: a step then
  // sees accumulation_steps x batch_size examples at the memory of one batch.
  int accumulation_steps = 1;
  // Ranks training together (nullptr: alone). Each takes its own batches of
  // every step; their gradients are averaged, so N ranks train exactly as one
  // process accumulating N batches per step.
  std::shared_ptr<DataParallelGroup> group;
  bool record_memory = false;  // per-block timeline of every step, to observers
  c10::Device device = torch::kCPU;
};

// The trainer's SGD settings (momentum, weight decay) at learning rate `lr`.
torch::optim::SGDOptions sgd_options(const TrainerOptions& o, double lr);

struct StepReport {
  int epoch = 0;
  int64_t step = 0;  // within the epoch, 1-based
  int64_t steps_in_epoch = 0;
  double loss = 0.0;
  double lr = 0.0;
  double seconds = 0.0;                // this step
  std::int64_t peak_bytes = 0;         // allocator peak during this step
  std::int64_t live_before_bytes = 0;  // allocator bytes live when the step began
  std::int64_t state_bytes = 0;  // weights, gradients, buffers, optimizer state (after the step)
  // Data-parallel: seconds this step waited for the gradient sums after its
  // backward (with overlap, only what backward did not hide).
  double communication_seconds = 0.0;

  // The whole step's own memory: its training state plus what the step
  // allocated on top, without the rest of the process (see StepMeasurement).
  std::int64_t whole_step_own_bytes() const { return peak_bytes - live_before_bytes + state_bytes; }
};

struct EpochReport {
  int epoch = 0;  // 1-based
  double train_loss = 0.0;
  double seconds = 0.0;
  std::int64_t peak_bytes = 0;
  std::map<std::string, double> metrics;  // from the evaluation callback
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_step(const StepReport&) {}
  virtual void on_epoch(const EpochReport&) {}
  virtual void on_memory(const MemoryEvent&) {}
  // Polled between steps: true stops training after the current step.
  virtual bool cancel_requested() { return false; }
};

// What the trainer needs from a model.
struct TrainableModel {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> weights;  // full learning rate
  std::vector<torch::Tensor> scalars;  // scalar_lr_factor x learning rate
};

using LossFunction = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;
using Evaluation = std::function<std::map<std::string, double>()>;

// Throws std::runtime_error when a spectrally normalized conv of `module` runs
// no power iteration per step (P = 0): training would move the weights away
// from their normalization, and Lip(g) < 1 would be assumed, not kept.
void check_spectral_norms_follow(torch::nn::Module& module);

class Trainer {
 public:
  Trainer(TrainableModel model, LossFunction loss, TrainerOptions options);

  void add_observer(TrainObserver* observer) { observers_.push_back(observer); }
  void set_evaluation(Evaluation evaluation) { evaluation_ = std::move(evaluation); }

  // Trains from the current epoch to options.epochs. Returns false if cancelled.
  bool fit(const Dataset& train);
  // One epoch; false if cancelled part-way.
  bool train_epoch(const Dataset& train, EpochReport& report);

  int completed_epochs() const { return epoch_; }
  // Examples one optimizer step sees: batch x accumulation x ranks.
  int64_t examples_per_step() const;
  double lr_for_epoch(int epoch) const;  // epoch is 0-based

  // Model, optimizer state and progress: resuming reproduces the run exactly.
  // The archive's entries; runs/run_folder reads the model's alone.
  static constexpr const char* kCheckpointModel = "model";
  static constexpr const char* kCheckpointOptimizer = "optimizer";
  static constexpr const char* kCheckpointEpoch = "epoch";
  static constexpr const char* kCheckpointSeed = "seed";
  void save_checkpoint(const std::string& path);
  void load_checkpoint(const std::string& path);

  const TrainerOptions& options() const { return options_; }

 private:
  void set_lr(double lr);
  // Rank 0's weights and buffers to every rank, once before training.
  void synchronize_start();
  // Throws when the ranks' weights or buffers (the spectral-norm probes,
  // Fixup's scalars) are no longer bit for bit the same.
  void check_ranks_agree();
  std::vector<size_t> epoch_order(size_t n) const;

  TrainableModel model_;
  LossFunction loss_;
  TrainerOptions options_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
  Evaluation evaluation_;
  std::vector<TrainObserver*> observers_;
  int epoch_ = 0;
  bool synchronized_ = false;
  std::unique_ptr<OverlappedGradientSum> overlapped_;  // data-parallel, overlapping
};

}  // namespace revup
