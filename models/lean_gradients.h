#pragma once
// Gradients of a pre-activation Fixup block, y = shortcut(x) + g(relu(x)),
// computed with as few tensors the size of x alive as possible. Used by
// MemSave's backward for RevUp's invertible blocks (identity shortcut) and its
// downsampling blocks (1x1 projection shortcut).
//
// At 4K every tensor the size of x is hundreds of mebibytes, so the branch is
// differentiated by hand, conv by conv, keeping only each conv's input and each
// inner ReLU's output; autograd only maps the folded convolution parameters
// back to the step's parameters. The last conv's output is never built; when
// the first conv is 1x1, relu(x) exists only while its weight gradient is
// taken; the projection shortcut is done by hand too. The results equal
// autograd's (a float64 test holds them to 1e-8).
#include <torch/torch.h>

#include <functional>

#include "core/sequence_block.h"
#include "models/branch.h"

namespace revup {

// `branch_parameters` maps (detached, grad-requiring) step parameters to
// fixup_branch's parameters (e.g. spectrally normalized weights). `projection`
// is the index in p of a 1x1 shortcut weight, or -1 for the identity.
// `grad_x_into`: with the identity shortcut, a tensor nothing else reads
// (normally grad_y itself) into which dL/dx may be accumulated: when the first
// conv is 1x1 its input gradient is then added band by band and never exists
// whole, and the result is that tensor.
Gradients preactivation_gradients(
    const BranchShape& shape, const torch::Tensor& x, const TensorVector& p,
    const torch::Tensor& grad_y, bool input_needs_grad,
    const std::function<TensorVector(const TensorVector&)>& branch_parameters, int projection,
    const torch::Tensor& grad_x_into = {});

}  // namespace revup
