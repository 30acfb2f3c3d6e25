#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/checkpoint_loading.h"
#include "core/math_constants.h"
#include "core/memory_tracker.h"
#include "core/spectral_norm.h"
#include "core/step_measurement.h"

namespace revup {

void check_spectral_norms_follow(torch::nn::Module& module) {
  for (const auto& m : module.modules()) {
    const auto* conv = m->as<SpectralNormConvImpl>();
    if (conv != nullptr && conv->options.power_iterations < 1) {
      throw std::runtime_error(
          "power_iterations = 0 while training: the spectral norms would never follow the "
          "weights the optimizer moves, and Lip(g) < 1 (invertibility) would no longer hold "
          "(use P >= 1)");
    }
  }
}

torch::optim::SGDOptions sgd_options(const TrainerOptions& o, double lr) {
  return torch::optim::SGDOptions(lr).momentum(o.momentum).weight_decay(o.weight_decay);
}

Trainer::Trainer(TrainableModel model, LossFunction loss, TrainerOptions options)
    : model_(std::move(model)), loss_(std::move(loss)), options_(std::move(options)) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(model_.weights, std::make_unique<torch::optim::SGDOptions>(
                                          sgd_options(options_, options_.lr)));
  if (!model_.scalars.empty()) {
    groups.emplace_back(model_.scalars, std::make_unique<torch::optim::SGDOptions>(sgd_options(
                                            options_, options_.lr * options_.scalar_lr_factor)));
  }
  optimizer_ =
      std::make_unique<torch::optim::SGD>(std::move(groups), sgd_options(options_, options_.lr));
}

double Trainer::lr_for_epoch(int epoch) const {
  switch (options_.schedule) {
    case LrSchedule::kConstant:
      return options_.lr;
    case LrSchedule::kStep: {
      double lr = options_.lr;
      for (int m : options_.milestones) {
        if (epoch >= m) lr *= options_.gamma;
      }
      return lr;
    }
    case LrSchedule::kCosine:
      return 0.5 * options_.lr * (1.0 + std::cos(kPi * epoch / std::max(1, options_.epochs)));
  }
  return options_.lr;
}

void Trainer::set_lr(double lr) {
  auto& groups = optimizer_->param_groups();
  static_cast<torch::optim::SGDOptions&>(groups[0].options()).lr(lr);
  if (groups.size() > 1) {
    static_cast<torch::optim::SGDOptions&>(groups[1].options()).lr(lr * options_.scalar_lr_factor);
  }
}

std::vector<size_t> Trainer::epoch_order(size_t n) const {
  // The order depends only on (seed, epoch): a resumed run sees the same batches.
  auto gen = at::detail::createCPUGenerator(options_.seed * 1000003ULL + epoch_);
  const auto perm = torch::randperm(static_cast<int64_t>(n), gen, torch::kLong);
  std::vector<size_t> order(n);
  const auto* p = perm.data_ptr<int64_t>();
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<size_t>(p[i]);
  return order;
}

int64_t Trainer::examples_per_step() const {
  return std::max<int64_t>(1, options_.batch_size) * std::max(1, options_.accumulation_steps) *
         (options_.group ? options_.group->size() : 1);
}

namespace {
// Every parameter and buffer of `module`, in registration order.
std::vector<torch::Tensor> state_tensors(torch::nn::Module& module) {
  auto tensors = module.parameters();
  for (const auto& b : module.buffers()) tensors.push_back(b);
  return tensors;
}

// Rank 0's buffers (the spectral-norm probes) to every rank, in place. Each
// rank advances its probes itself, from identical weights; a rounding
// difference (a BLAS that sums in another order on another CPU) would make
// the ranks normalize by different sigmas. As DDP does with buffers.
void broadcast_buffers(DataParallelGroup& group, torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const auto buffers = module.buffers();
  if (!buffers.empty()) group.broadcast(buffers);
}

// FNV-1a over the tensors' bytes: equal only for bit-identical states.
std::int64_t state_hash(const std::vector<torch::Tensor>& tensors) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const auto& t : tensors) {
    const auto cpu = t.detach().to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(cpu.data_ptr());
    for (size_t i = 0; i < cpu.nbytes(); ++i) h = (h ^ bytes[i]) * 1099511628211ULL;
  }
  return static_cast<std::int64_t>(h);
}
}  // namespace

void Trainer::synchronize_start() {
  if (!options_.group || synchronized_) return;
  torch::NoGradGuard no_grad;
  options_.group->broadcast(state_tensors(*model_.module));
  synchronized_ = true;
}

void Trainer::check_ranks_agree() {
  if (!options_.group) return;
  broadcast_buffers(*options_.group, *model_.module);
  const auto hashes = options_.group->all_gather(state_hash(state_tensors(*model_.module)));
  for (size_t r = 1; r < hashes.size(); ++r) {
    if (hashes[r] != hashes[0]) {
      throw std::runtime_error("after epoch " + std::to_string(epoch_) + " the weights of rank " +
                               std::to_string(r) +
                               " differ from rank 0's: the ranks no longer train one model "
                               "(different LibTorch builds or thread counts per rank?)");
    }
  }
}

bool Trainer::train_epoch(const Dataset& train, EpochReport& report) {
  using clock = std::chrono::steady_clock;
  if (train.size() == 0) throw std::runtime_error("the training set is empty");
  check_spectral_norms_follow(*model_.module);
  synchronize_start();
  const auto epoch_start = clock::now();
  const double lr = lr_for_epoch(epoch_);
  set_lr(lr);
  model_.module->train();
  torch::manual_seed(options_.seed + 7919ULL * epoch_);  // dropout-free, but augmentations may draw

  // Every rank draws the same order; step s takes the next examples_per_step()
  // examples of it, in batches: accumulation round m, rank r takes batch
  // m * ranks + r. One process accumulating N batches sees the same batches
  // in the same step as N ranks do.
  const auto order = epoch_order(train.size());
  const auto batch = static_cast<size_t>(std::max<int64_t>(1, options_.batch_size));
  const int rounds = std::max(1, options_.accumulation_steps);
  const int ranks = options_.group ? options_.group->size() : 1;
  const int rank = options_.group ? options_.group->rank() : 0;
  const auto per_step = static_cast<size_t>(examples_per_step());
  int64_t steps = static_cast<int64_t>((order.size() + per_step - 1) / per_step);
  if (options_.steps_per_epoch > 0) steps = std::min(steps, options_.steps_per_epoch);

  report = EpochReport{};
  report.epoch = epoch_ + 1;
  double loss_sum = 0;
  double examples_seen = 0;
  bool cancel = false;
  for (int64_t s = 0; s < steps; ++s) {
    for (auto* o : observers_) cancel = cancel || o->cancel_requested();
    if (cancel && !options_.group) return false;
    const auto step_start = clock::now();
    const size_t step_begin = static_cast<size_t>(s) * per_step;
    const size_t step_examples = std::min(per_step, order.size() - step_begin);

    MemoryTracker::reset_peak(options_.device);
    const auto live_before = MemoryTracker::live_bytes(options_.device);
    double step_loss_sum = 0;  // this rank's, weighted by examples
    double communication_seconds = 0;
    {
      std::unique_ptr<MemoryRecording> recording;
      if (options_.record_memory) {
        recording =
            std::make_unique<MemoryRecording>(options_.device, [this](const MemoryEvent& e) {
              for (auto* o : observers_) o->on_memory(e);
            });
      }
      optimizer_->zero_grad();
      if (options_.group) broadcast_buffers(*options_.group, *model_.module);
      // Every probe iterates once, before the step's first forward.
      ProbesOncePerStep probes(*model_.module);
      probes.advance();
      // This rank's batches in this step (fewer in an uneven last step).
      int my_rounds = 0;
      while (my_rounds < rounds &&
             (static_cast<size_t>(my_rounds) * ranks + rank) * batch < step_examples) {
        ++my_rounds;
      }
      if (options_.group && options_.group->overlaps_backward() && !overlapped_) {
        overlapped_ =
            std::make_unique<OverlappedGradientSum>(*options_.group, model_.module->parameters());
      }
      for (int m = 0; m < my_rounds; ++m) {
        const size_t begin = step_begin + (static_cast<size_t>(m) * ranks + rank) * batch;
        const std::vector<size_t> idx(
            order.begin() + begin,
            order.begin() + std::min(step_begin + step_examples, begin + batch));
        auto example = collate(train, idx);
        const auto input = example.input.to(options_.device);
        const auto target = example.target.to(options_.device);
        auto loss = loss_(model_.forward(input), target);
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          throw std::runtime_error("the loss became " + std::to_string(value) + " at epoch " +
                                   std::to_string(epoch_ + 1) + ", step " + std::to_string(s + 1) +
                                   " (lower the learning rate, or check the data for NaN/Inf)");
        }
        // The step's loss is the mean over all its examples: each batch's
        // mean counts by its share of them.
        const double share = static_cast<double>(idx.size()) / static_cast<double>(step_examples);
        // The last batch's backward sends gradients while it runs.
        if (m == my_rounds - 1) {
          probes.release_directions();
          if (overlapped_) overlapped_->arm();
        }
        (share == 1.0 ? loss : loss * share).backward();
        step_loss_sum += value * static_cast<double>(idx.size());
      }
      if (options_.group) {
        // A rank without a batch in the last step adds zeros.
        const auto wait_start = clock::now();
        auto stats = torch::tensor({step_loss_sum, cancel ? 1.0 : 0.0}, torch::kDouble);
        if (overlapped_) {
          overlapped_->finish();
          options_.group->all_reduce_sum({stats});
        } else {
          std::vector<torch::Tensor> grads;
          for (auto& p : model_.module->parameters()) {
            if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
            grads.push_back(p.grad());
          }
          grads.push_back(stats);
          options_.group->all_reduce_sum(grads);
        }
        communication_seconds = std::chrono::duration<double>(clock::now() - wait_start).count();
        step_loss_sum = stats[0].item<double>();
        cancel = stats[1].item<double>() > 0;
      }
      if (options_.clip_grad_norm > 0) {
        torch::nn::utils::clip_grad_norm_(model_.module->parameters(), options_.clip_grad_norm);
      }
      optimizer_->step();
    }
    const double loss_value = step_loss_sum / static_cast<double>(step_examples);
    StepReport step;
    step.epoch = epoch_ + 1;
    step.step = s + 1;
    step.steps_in_epoch = steps;
    step.loss = loss_value;
    step.lr = lr;
    step.seconds = std::chrono::duration<double>(clock::now() - step_start).count();
    step.peak_bytes = MemoryTracker::peak_bytes(options_.device);
    step.live_before_bytes = live_before;
    step.state_bytes = training_state_bytes(*model_.module, *optimizer_);
    step.communication_seconds = communication_seconds;
    report.peak_bytes = std::max(report.peak_bytes, step.peak_bytes);
    loss_sum += step_loss_sum;
    examples_seen += static_cast<double>(step_examples);
    for (auto* o : observers_) o->on_step(step);
    // Ranks stop together, after the same step (one rank's Ctrl-C is all's).
    if (cancel) return false;
  }
  report.train_loss = loss_sum / examples_seen;
  ++epoch_;
  check_ranks_agree();
  if (evaluation_) {
    model_.module->eval();
    torch::NoGradGuard no_grad;
    report.metrics = evaluation_();
  }
  report.seconds = std::chrono::duration<double>(clock::now() - epoch_start).count();
  for (auto* o : observers_) o->on_epoch(report);
  return true;
}

bool Trainer::fit(const Dataset& train) {
  while (epoch_ < options_.epochs) {
    EpochReport report;
    if (!train_epoch(train, report)) return false;
  }
  return true;
}

void Trainer::save_checkpoint(const std::string& path) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive, optimizer_archive;
  model_.module->save(model_archive);
  optimizer_->save(optimizer_archive);
  archive.write(kCheckpointModel, model_archive);
  archive.write(kCheckpointOptimizer, optimizer_archive);
  archive.write(kCheckpointEpoch, torch::tensor(static_cast<int64_t>(epoch_)));
  archive.write(kCheckpointSeed, torch::tensor(static_cast<int64_t>(options_.seed)));
  save_archive_atomically(archive, path);
}

void Trainer::load_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": checkpoint not found");
  const std::string problem = "not a readable RevUp checkpoint";
  torch::serialize::InputArchive archive, model_archive, optimizer_archive;
  torch::Tensor epoch;
  open_checkpoint(archive, path, problem);
  reading_checkpoint(path, problem, [&] {
    archive.read(kCheckpointModel, model_archive);
    archive.read(kCheckpointOptimizer, optimizer_archive);
    archive.read(kCheckpointEpoch, epoch);
  });
  load_module_checked(*model_.module, model_archive, path, problem);
  int64_t completed = 0;
  reading_checkpoint(path, problem, [&] {
    optimizer_->load(optimizer_archive);
    completed = epoch.item<int64_t>();
  });
  if (completed < 0 || completed > std::numeric_limits<int>::max()) {
    throw std::runtime_error(path + ": checkpoint of epoch " + std::to_string(completed));
  }
  epoch_ = static_cast<int>(completed);
}

}  // namespace revup
