#include "core/sequence.h"

#include <mutex>
#include <stdexcept>
#include <string>

#include "core/memory_timeline.h"

namespace revup {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::mutex g_stats_mutex;
InverseStats g_last_stats;

void mark_backward_when_grad_arrives(const torch::Tensor& input, BlockLabel label) {
  // Only inputs of a graph being built: a no-grad forward (inside a custom
  // function) must not leave hooks on tensors it does not own.
  if (!MemoryTimeline::recording() || !torch::GradMode::is_enabled() || !input.requires_grad()) {
    return;
  }
  // The gradient of a block's input exists once that block's backward is done.
  input.register_hook([label](const torch::Tensor&) {
    MemoryTimeline::mark(Phase::kBackward, label.stage, label.block);
  });
}

// Forward through blocks with autograd; `mark_forward` is off when recomputing.
torch::Tensor run_plain(const std::vector<LabeledBlock>& blocks,
                        const std::vector<TensorVector>& params, torch::Tensor x,
                        bool mark_forward) {
  for (size_t i = 0; i < blocks.size(); ++i) {
    // A recompute's input is a leaf of autograd::grad, whose hooks LibTorch 1.13
    // does not run: the caller marks that boundary itself.
    if (mark_forward || i > 0) mark_backward_when_grad_arrives(x, blocks[i].label);
    x = blocks[i].block->apply(x, params[i]);
    if (mark_forward) {
      MemoryTimeline::mark(Phase::kForward, blocks[i].label.stage, blocks[i].label.block);
    }
  }
  return x;
}

// What backward needs besides tensors, carried through the autograd context.
struct SequencePlan : torch::CustomClassHolder {
  std::vector<LabeledBlock> blocks;
  std::vector<size_t> offsets;  // block i's parameters are flat[offsets[i], offsets[i + 1])

  std::vector<TensorVector> split(const TensorVector& flat) const {
    std::vector<TensorVector> per_block;
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      per_block.emplace_back(flat.begin() + offsets[i], flat.begin() + offsets[i + 1]);
    }
    return per_block;
  }
};

// MemSave's shared state for one forward: the one activation it keeps. After
// forward it is the sequence's output; as backward walks back, block i's
// backward replaces it by block i's (rebuilt or checkpointed) input.
struct MemSaveTape : torch::CustomClassHolder {
  std::vector<LabeledBlock> blocks;
  FixedPointOptions inverse;
  torch::Tensor activation;
  int64_t activation_version = 0;
  int64_t position = -1;  // the block whose output `activation` is
  InverseStats stats;
  // The last block that is cheap to recompute, with its input and parameters:
  // the block after it keeps nothing and rebuilds its input from these.
  int64_t cheap_index = -1;
  torch::Tensor cheap_input;
  TensorVector cheap_params;

  bool input_rebuildable(int64_t index) const {
    return index > 0 && cheap_index == index - 1 &&
           !blocks[static_cast<size_t>(index)].block->invertible();
  }
};

template <class T>
c10::intrusive_ptr<T> holder_from(AutogradContext* ctx, const char* key) {
  auto it = ctx->saved_data.find(key);
  if (it == ctx->saved_data.end()) {
    throw std::runtime_error(
        "backward through a memory-saving sequence ran twice; its activations are rebuilt "
        "once and are gone (run forward again)");
  }
  return c10::static_intrusive_pointer_cast<T>(it->second.toCapsule());
}

torch::Tensor take_saved(AutogradContext* ctx, const std::string& key) {
  auto it = ctx->saved_data.find(key);
  torch::Tensor t = it->second.toTensor();
  ctx->saved_data.erase(it);  // release our reference as soon as it is consumed
  return t;
}

// The gradients a custom function returns: input, parameters, then one
// undefined entry per non-tensor argument.
variable_list function_gradients(torch::Tensor grad_x, TensorVector grad_p, int non_tensor_args) {
  variable_list result;
  result.reserve(1 + grad_p.size() + non_tensor_args);
  result.push_back(std::move(grad_x));
  for (auto& g : grad_p) result.push_back(std::move(g));
  result.resize(result.size() + static_cast<size_t>(non_tensor_args));
  return result;
}

// One block of a MemSave sequence. One function per block (not one for the
// whole sequence) so that autograd accumulates each block's parameter
// gradients as soon as that block is done, instead of holding all of them
// until the sequence's backward ends. No function keeps its input or output:
// the chain's only activation lives in the shared tape.
struct MemSaveBlockFunction : torch::autograd::Function<MemSaveBlockFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList params,
                               c10::intrusive_ptr<MemSaveTape> tape, int64_t index) {
    const auto& [block, label] = tape->blocks[static_cast<size_t>(index)];
    const TensorVector p(params.begin(), params.end());
    // A block that is not invertible keeps its input (a checkpoint). Detached:
    // the alias holds the storage without tying this node to the input's graph.
    // When the block before it is cheap to recompute, that block's input is
    // kept instead and this one is rebuilt from it in backward.
    if (!block->invertible() && !tape->input_rebuildable(index)) {
      ctx->saved_data["input"] = x.detach();
    }
    if (block->cheap_to_recompute()) {
      tape->cheap_index = index;
      tape->cheap_input = x.detach();
      tape->cheap_params = p;
    }
    auto y = block->apply(x, p);
    tape->activation = y.detach();  // replaces the previous block's output
    tape->activation_version = y._version();
    tape->position = index;
    // Parameters are inputs (weights, not activations): cheap, and no cycle.
    ctx->save_for_backward(p);
    ctx->saved_data["tape"] = c10::IValue::make_capsule(tape);
    ctx->saved_data["index"] = index;
    MemoryTimeline::mark(Phase::kForward, label.stage, label.block);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto tape = holder_from<MemSaveTape>(ctx, "tape");
    ctx->saved_data.erase("tape");
    const int64_t index = ctx->saved_data["index"].toInt();
    if (tape->position != index) {
      throw std::runtime_error("memory-saving backward reached block " + std::to_string(index) +
                               " while holding the "
                               "output of block " +
                               std::to_string(tape->position) +
                               ": only the sequence's final output may be used in the loss");
    }
    torch::Tensor y = std::move(tape->activation);
    if (y._version() != tape->activation_version) {
      throw std::runtime_error(
          "the output of a memory-saving sequence was modified in place after forward; its "
          "activations can no longer be rebuilt (use an out-of-place op after the sequence)");
    }
    // Not a structured binding: the lambdas below capture `block`, which
    // C++17 allows for a variable only (clang, the fuzz build, enforces it).
    const auto& block = tape->blocks[static_cast<size_t>(index)].block;
    const auto& label = tape->blocks[static_cast<size_t>(index)].label;
    const TensorVector p = ctx->get_saved_variables();
    torch::Tensor x;
    if (block->invertible()) {
      const auto g = [&](const torch::Tensor& v) { return block->branch(v, p); };
      // Where nothing else holds y's storage (the sequence's own output may
      // still be held by the caller), x is rebuilt into it: y is not needed
      // once x exists, and at 4K each is hundreds of MiB.
      FixedPointResult inverse = y.storage().use_count() == 1
                                     ? fixed_point_inverse_into(
                                           std::move(y), g,
                                           [&](torch::Tensor& out, const torch::Tensor& v) {
                                             return block->subtract_branch(out, v, p);
                                           },
                                           tape->inverse)
                                     : fixed_point_inverse(y, g, tape->inverse);
      x = std::move(inverse.x);
      ++tape->stats.blocks;
      tape->stats.max_iterations = std::max(tape->stats.max_iterations, inverse.iterations);
      tape->stats.max_relative_change =
          std::max(tape->stats.max_relative_change, inverse.relative_change);
    } else {
      // A block that is not invertible has no use for its output: released
      // before its input is brought back (at 4K, a stem recomputed next to the
      // output it no longer needs was the step's peak).
      y = torch::Tensor();
      if (ctx->saved_data.count("input") != 0) {
        x = take_saved(ctx, "input");
      } else {
        torch::NoGradGuard no_grad;
        const auto& previous = tape->blocks[static_cast<size_t>(index - 1)].block;
        x = previous->apply(tape->cheap_input, tape->cheap_params);
      }
    }
    y = torch::Tensor();  // what the in-place rebuild could not reuse
    // The gradient of an inner block's output comes from the next block's
    // backward, here, and nothing else reads it: the block may accumulate
    // dL/dx into it. The sequence's own output gradient comes from the caller.
    const bool grad_y_reusable = index + 1 < static_cast<int64_t>(tape->blocks.size());
    auto [grad_x, grad_p] =
        block->gradients(x, p, grad_outputs[0], ctx->needs_input_grad(0), grad_y_reusable);
    if (index == tape->cheap_index) {
      tape->cheap_input = torch::Tensor();
      tape->cheap_params.clear();
    }
    if (index > 0) {
      tape->activation = x;
      tape->activation_version = x._version();
    } else {
      std::lock_guard<std::mutex> lock(g_stats_mutex);
      g_last_stats = tape->stats;
    }
    tape->position = index - 1;
    x = torch::Tensor();
    MemoryTimeline::mark(Phase::kBackward, label.stage, label.block);

    return function_gradients(std::move(grad_x), std::move(grad_p), /*tape, index*/ 2);
  }
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, at::TensorList flat,
                               c10::intrusive_ptr<SequencePlan> plan) {
    const TensorVector params(flat.begin(), flat.end());
    TensorVector to_save = params;
    to_save.push_back(x);
    ctx->save_for_backward(to_save);
    ctx->saved_data["plan"] = c10::IValue::make_capsule(plan);
    return run_plain(plan->blocks, plan->split(params), x, /*mark_forward=*/true);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto plan = holder_from<SequencePlan>(ctx, "plan");
    ctx->saved_data.erase("plan");
    TensorVector saved = ctx->get_saved_variables();
    const torch::Tensor x = saved.back();
    saved.pop_back();

    auto [grad_x, grad_p] = recompute_gradients(
        [&](const torch::Tensor& xl, const TensorVector& leaves) {
          return run_plain(plan->blocks, plan->split(leaves), xl, /*mark_forward=*/false);
        },
        x, saved, grad_outputs[0], ctx->needs_input_grad(0));
    const auto& first = plan->blocks.front().label;
    MemoryTimeline::mark(Phase::kBackward, first.stage, first.block);
    return function_gradients(std::move(grad_x), std::move(grad_p), /*plan*/ 1);
  }
};

}  // namespace

torch::Tensor run_sequence(const std::vector<LabeledBlock>& blocks, const torch::Tensor& x,
                           const SequenceOptions& options) {
  std::vector<TensorVector> per_block;
  per_block.reserve(blocks.size());
  for (const auto& b : blocks) per_block.push_back(b.block->step_parameters());

  const bool needs_graph = torch::GradMode::is_enabled();
  if (options.mode == SequenceMode::kPlain || !needs_graph) {
    return run_plain(blocks, per_block, x, /*mark_forward=*/true);
  }
  if (options.mode == SequenceMode::kMemSave) {
    auto tape = c10::make_intrusive<MemSaveTape>();
    tape->blocks = blocks;
    tape->inverse = options.inverse;
    torch::Tensor h = x;
    for (size_t i = 0; i < blocks.size(); ++i) {
      h = MemSaveBlockFunction::apply(h, at::TensorList(per_block[i]), tape,
                                      static_cast<int64_t>(i));
    }
    return h;
  }
  auto plan = c10::make_intrusive<SequencePlan>();
  plan->blocks = blocks;
  TensorVector flat;
  plan->offsets.push_back(0);
  for (const auto& p : per_block) {
    flat.insert(flat.end(), p.begin(), p.end());
    plan->offsets.push_back(flat.size());
  }
  return CheckpointFunction::apply(x, at::TensorList(flat), plan);
}

InverseStats last_inverse_stats() {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  return g_last_stats;
}

}  // namespace revup
