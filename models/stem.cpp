#include "models/stem.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "core/inference_graph.h"
#include "core/torch_compat.h"
#include "models/branch.h"
#include "models/patch_conv_gradients.h"

namespace revup {

StemBlockImpl::StemBlockImpl(StemKind k, StemNorm n, int64_t in_channels, int64_t w, int64_t dims_,
                             std::vector<int64_t> patch_strides_)
    : kind(k), norm(n), width(w), dims(dims_), patch_strides(std::move(patch_strides_)) {
  TORCH_CHECK(dims == 2 || norm == StemNorm::kFixupBias, "a BatchNorm stem is 2D only");
  if (kind == StemKind::kInjective) {
    TORCH_CHECK(width >= in_channels, "injective stem needs width >= input channels");
    return;
  }
  const int64_t kernel = kind == StemKind::kCifar ? 3 : (kind == StemKind::kPatch ? 4 : 7);
  if (kind == StemKind::kPatch && patch_strides.empty()) patch_strides.assign(dims, kernel);
  TORCH_CHECK(kind == StemKind::kPatch ? static_cast<int64_t>(patch_strides.size()) == dims
                                       : patch_strides.empty(),
              "patch strides: one per spatial axis, for the patch stem only");
  std::vector<int64_t> sizes{width, in_channels};
  sizes.resize(static_cast<size_t>(2 + dims), kernel);
  // The patch stem's kernel is its stride on each axis: patches tile the input.
  if (kind == StemKind::kPatch)
    std::copy(patch_strides.begin(), patch_strides.end(), sizes.begin() + 2);
  weight = register_parameter("weight", torch::empty(sizes));
  {
    torch::NoGradGuard no_grad;
    compat::kaiming_normal_fan_out(weight);
  }
  if (norm == StemNorm::kFixupBias) {
    bias = register_parameter("bias", torch::zeros({}));
  } else {
    bn = register_module("bn", torch::nn::BatchNorm2d(width));
  }
}

std::vector<int64_t> StemBlockImpl::strides() const {
  if (kind == StemKind::kPatch) return patch_strides;
  return std::vector<int64_t>(dims, kind == StemKind::kImageNet ? 2 : 1);
}

int64_t StemBlockImpl::padding() const {
  return kind == StemKind::kPatch || !weight.defined() ? 0 : weight.size(-1) / 2;
}

TensorVector StemBlockImpl::step_parameters() {
  if (kind == StemKind::kInjective) return {};
  if (norm == StemNorm::kFixupBias) return {weight, bias};
  return {weight, bn->weight, bn->bias};
}

torch::Tensor StemBlockImpl::apply(const torch::Tensor& x, const TensorVector& p) const {
  if (kind == StemKind::kInjective) {
    // Zero channels appended: nothing padded on the spatial axes (pairs from the last axis).
    std::vector<int64_t> pad(static_cast<size_t>(2 * (x.dim() - 2)), 0);
    pad.push_back(0);
    pad.push_back(width - x.size(1));
    return torch::constant_pad_nd(x, pad);
  }
  const auto strides = this->strides();
  const int64_t stride = strides[0], padding = this->padding();
  const bool uniform =
      std::all_of(strides.begin(), strides.end(), [&](int64_t s) { return s == stride; });
  torch::Tensor h;
  if (norm == StemNorm::kFixupBias) {
    // The scalar bias rides in the conv, the ReLU runs in place: at 4K the
    // stem's output alone is half a gigabyte.
    const auto b = p[1].expand({width});
    // An anisotropic patch conv directly: its kernel equals its stride, so
    // the CPU's unfolded input is the input's own size, not k^3 times it.
    h = uniform     ? convolution(x, p[0], b, stride, padding)
        : dims == 3 ? torch::conv3d(x, p[0], b, strides)
                    : torch::conv2d(x, p[0], b, strides);
    h.relu_();
  } else {
    h = torch::conv2d(x, p[0], {}, stride, padding);
    h = torch::relu(torch::batch_norm(h, p[1], p[2], bn->running_mean, bn->running_var,
                                      is_training(), bn->options.momentum().value(),
                                      bn->options.eps(), true));
  }
  if (kind == StemKind::kImageNet) {
    h = dims == 3 ? torch::max_pool3d(h, 3, 2, 1) : torch::max_pool2d(h, 3, 2, 1);
  }
  return h;
}

Gradients StemBlockImpl::gradients(const torch::Tensor& x, const TensorVector& p,
                                   const torch::Tensor& grad_y, bool input_needs_grad,
                                   bool grad_y_reusable) const {
  if (kind != StemKind::kPatch || norm != StemNorm::kFixupBias) {
    return SequenceBlock::gradients(x, p, grad_y, input_needs_grad, grad_y_reusable);
  }
  torch::NoGradGuard no_grad;
  // dL/d(conv + bias): grad_y where the ReLU let it through. relu(h) > 0
  // exactly where h > 0, so the recomputed output serves as the mask.
  torch::Tensor grad_h = grad_y;
  {
    const auto h = apply(x, p);
    grad_h = grad_y_reusable ? at::threshold_backward_out(grad_h, grad_h, h, 0)
                             : at::threshold_backward(grad_y, h, 0);
  }
  const auto& weight = p[0];
  const auto& bias = p[1];
  auto conv =
      patch_conv_gradients(grad_h, x, weight.detach(), input_needs_grad, weight.requires_grad());
  // The scalar bias is added to every output channel: its gradient is the sum.
  auto grad_bias = bias.requires_grad() ? grad_h.sum() : torch::Tensor();
  return {std::move(conv.input), {std::move(conv.weight), std::move(grad_bias)}};
}

int StemBlockImpl::describe(InferenceGraph& graph, int x, const std::string& scope) {
  if (kind == StemKind::kInjective) {
    return graph.add({InferenceOpKind::kPadChannels,
                      {x},
                      {},
                      dims == 3 ? std::vector<int64_t>{width, 3} : std::vector<int64_t>{width},
                      scope});
  }
  if (norm != StemNorm::kFixupBias) {
    throw std::runtime_error(scope + ": a BatchNorm stem cannot be exported yet");
  }
  // One stride for all axes when they agree (as 2D graphs always wrote it), else one each.
  auto ints = this->strides();
  if (std::all_of(ints.begin(), ints.end(), [&](int64_t s) { return s == ints[0]; }))
    ints.resize(1);
  ints.push_back(padding());
  torch::NoGradGuard no_grad;
  int h = graph.add({dims == 3 ? InferenceOpKind::kConv3d : InferenceOpKind::kConv2d,
                     {x},
                     {graph.add_tensor(scope + ".weight", weight),
                      graph.add_tensor(scope + ".bias", bias.expand({width}))},
                     ints,
                     scope});
  h = graph.add({InferenceOpKind::kRelu, {h}, {}, {}, scope});
  if (kind == StemKind::kImageNet) {
    h = graph.add({dims == 3 ? InferenceOpKind::kMaxPool3d : InferenceOpKind::kMaxPool2d,
                   {h},
                   {},
                   {3, 2, 1},
                   scope});
  }
  return h;
}

}  // namespace revup
