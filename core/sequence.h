#pragma once
// Runs a sequence of blocks in one of three memory modes.
//
//   kPlain      ordinary autograd: every block keeps what it needs for backward.
//   kMemSave    RevUp's memory saving: the sequence keeps only its output and
//               the inputs of blocks that are not invertible; backward rebuilds
//               each invertible block's input from its output by fixed-point
//               iteration, recomputes the block with grad and moves on.
//   kCheckpoint gradient checkpointing: keeps only the sequence's input and
//               recomputes the whole sequence in backward.
//
// All three mark the memory timeline at every block boundary, forward and backward.
#include <torch/torch.h>

#include <vector>

#include "core/fixed_point.h"
#include "core/sequence_block.h"

namespace revup {

enum class SequenceMode { kPlain, kMemSave, kCheckpoint };

struct SequenceOptions {
  SequenceMode mode = SequenceMode::kPlain;
  FixedPointOptions inverse;  // used by kMemSave's backward
};

torch::Tensor run_sequence(const std::vector<LabeledBlock>& blocks, const torch::Tensor& x,
                           const SequenceOptions& options);

// Statistics of the inverses the last MemSave backward ran (on this thread's
// last backward); for reports, not for control.
struct InverseStats {
  int blocks = 0;
  int max_iterations = 0;
  double max_relative_change = 0.0;
};
InverseStats last_inverse_stats();

}  // namespace revup
