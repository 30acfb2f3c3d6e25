#include "models/patch_conv_gradients.h"

#include <vector>

#include "models/branch.h"

namespace revup {
namespace {

// The offset inside the patch of tap `t` (row-major over the kernel's axes).
std::vector<int64_t> tap_offset(int64_t t, const torch::Tensor& weight) {
  const int64_t dims = weight.dim() - 2;
  std::vector<int64_t> offset(static_cast<size_t>(dims));
  for (int64_t a = dims - 1; a >= 0; --a) {
    offset[static_cast<size_t>(a)] = t % weight.size(2 + a);
    t /= weight.size(2 + a);
  }
  return offset;
}

// What tap `offset` reads of v (the input or its gradient): [N, C, out...].
torch::Tensor tap_view(const torch::Tensor& v, const std::vector<int64_t>& offset,
                       const torch::Tensor& weight, const torch::Tensor& grad_output) {
  torch::Tensor view = v;
  for (size_t a = 0; a < offset.size(); ++a) {
    const int64_t axis = 2 + static_cast<int64_t>(a), s = weight.size(axis);
    view = view.slice(axis, offset[a], offset[a] + s * grad_output.size(axis), s);
  }
  return view;
}

// The tap's weights, [C_out, C_in] (a view of `weight`).
torch::Tensor tap_weights(torch::Tensor weight, const std::vector<int64_t>& offset) {
  for (const int64_t o : offset) weight = weight.select(2, o);
  return weight;
}

}  // namespace

PatchConvGradients patch_conv_gradients(const torch::Tensor& grad_output,
                                        const torch::Tensor& input, const torch::Tensor& weight,
                                        bool input_wanted, bool weight_wanted) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(input.dim() == weight.dim() && grad_output.dim() == weight.dim(),
              "patch conv gradients: input, weight and gradient of different ranks");
  const int64_t in_channels = input.size(1), out_channels = weight.size(0);
  PatchConvGradients result;
  if (weight_wanted) result.weight = torch::empty_like(weight);
  if (input_wanted) result.input = torch::zeros_like(input);
  const int64_t taps = weight.numel() / (out_channels * in_channels);
  // Each tap is a 1x1 convolution of its strided view (models/branch.h's
  // matrix-product gradients; the view is copied once, a tap's share).
  for (int64_t t = 0; t < taps; ++t) {
    const auto offset = tap_offset(t, weight);
    if (weight_wanted) {
      tap_weights(result.weight, offset)
          .copy_(conv1x1_weight_grad(grad_output, tap_view(input, offset, weight, grad_output))
                     .view({out_channels, in_channels}));
    }
    if (input_wanted) {
      tap_view(result.input, offset, weight, grad_output)
          .copy_(conv1x1_input_grad(grad_output, tap_weights(weight, offset)));
    }
  }
  return result;
}

}  // namespace revup
