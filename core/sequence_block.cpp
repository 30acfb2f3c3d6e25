#include "core/sequence_block.h"

#include <stdexcept>

namespace revup {

torch::Tensor SequenceBlock::branch(const torch::Tensor&, const TensorVector&) const {
  throw std::logic_error("branch() called on a block that is not invertible");
}

}  // namespace revup
