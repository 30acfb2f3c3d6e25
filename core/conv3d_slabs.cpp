#include "core/conv3d_slabs.h"

#include <algorithm>
#include <vector>

#include "core/torch_compat.h"

namespace revup {
namespace {

struct SlabPlan {
  int64_t out_planes = 0;  // output depth
  int64_t per_slab = 0;    // output planes a slab
};

// Output planes per slab so that one slab's unfolded input (N * C_in * k^3
// values per output voxel) fits `budget_bytes`.
SlabPlan plan(const torch::Tensor& input, const torch::Tensor& weight, int64_t stride,
              int64_t padding, std::int64_t budget_bytes) {
  const int64_t k = weight.size(2);
  const auto out_size = [&](int64_t n) { return (n + 2 * padding - k) / stride + 1; };
  SlabPlan p;
  p.out_planes = out_size(input.size(2));
  const std::int64_t plane_bytes = input.size(0) * input.size(1) * k * k * k *
                                   out_size(input.size(3)) * out_size(input.size(4)) *
                                   static_cast<std::int64_t>(input.element_size());
  p.per_slab = std::max<std::int64_t>(1, budget_bytes / std::max<std::int64_t>(1, plane_bytes));
  return p;
}

bool whole(const torch::Tensor& input, const SlabPlan& p) {
  return !input.is_cpu() || p.per_slab >= p.out_planes;
}

// Input planes [lo, hi) of x, zero planes where they fall outside the volume
// (the depth padding the whole convolution would have added).
torch::Tensor depth_window(const torch::Tensor& x, int64_t lo, int64_t hi) {
  const int64_t a = std::max<int64_t>(lo, 0), b = std::min(hi, x.size(2));
  const auto inner = x.narrow(2, a, b - a);
  if (a == lo && b == hi) return inner;
  return torch::constant_pad_nd(inner, {0, 0, 0, 0, a - lo, hi - b});
}

// The input planes output planes [d0, d1) read.
std::pair<int64_t, int64_t> receptive_field(int64_t d0, int64_t d1, int64_t k, int64_t stride,
                                            int64_t padding) {
  return {d0 * stride - padding, (d1 - 1) * stride - padding + k};
}

}  // namespace

torch::Tensor conv3d_in_slabs(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, int64_t stride, int64_t padding,
                              std::int64_t budget_bytes) {
  if (budget_bytes <= 0) {
    budget_bytes = torch::GradMode::is_enabled() ? kConvSlabBytesWithGraph : kConvSlabBytes;
  }
  const auto p = plan(x, weight, stride, padding, budget_bytes);
  if (whole(x, p)) return torch::conv3d(x, weight, bias, stride, padding);
  const int64_t k = weight.size(2);
  const std::vector<int64_t> strides(3, stride), paddings{0, padding, padding};
  const auto slab = [&](int64_t d0, int64_t d1) {
    const auto [lo, hi] = receptive_field(d0, d1, k, stride, padding);
    return torch::conv3d(depth_window(x, lo, hi), weight, bias, strides, paddings);
  };
  if (torch::GradMode::is_enabled()) {
    std::vector<torch::Tensor> slabs;
    for (int64_t d0 = 0; d0 < p.out_planes; d0 += p.per_slab) {
      slabs.push_back(slab(d0, std::min(p.out_planes, d0 + p.per_slab)));
    }
    return torch::cat(slabs, 2);
  }
  // Without a graph, each slab goes straight into the output: never the
  // slabs and the output at once.
  torch::Tensor out;
  for (int64_t d0 = 0; d0 < p.out_planes; d0 += p.per_slab) {
    const int64_t d1 = std::min(p.out_planes, d0 + p.per_slab);
    const auto s = slab(d0, d1);
    if (!out.defined()) {
      auto sizes = s.sizes().vec();
      sizes[2] = p.out_planes;
      out = torch::empty(sizes, s.options());
    }
    out.narrow(2, d0, d1 - d0).copy_(s);
  }
  return out;
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv3d_backward_in_slabs(
    const torch::Tensor& grad_output, const torch::Tensor& input, const torch::Tensor& weight,
    int64_t stride, int64_t padding, std::array<bool, 3> wanted, std::int64_t budget_bytes) {
  const auto p = plan(input, weight, stride, padding, budget_bytes);
  if (whole(input, p)) {
    return compat::conv_backward(grad_output, input, weight, stride, padding, wanted);
  }
  torch::NoGradGuard no_grad;
  const int64_t k = weight.size(2), depth = input.size(2);
  const std::vector<int64_t> bias_sizes{weight.size(0)}, strides(3, stride),
      paddings{0, padding, padding}, ones(3, 1), zeros(3, 0);
  torch::Tensor grad_input, grad_weight, grad_bias;
  if (wanted[0]) grad_input = torch::zeros_like(input, at::MemoryFormat::Contiguous);
  if (wanted[1]) grad_weight = torch::zeros_like(weight);
  if (wanted[2]) {
    std::vector<int64_t> axes{0, 2, 3, 4};
    grad_bias = grad_output.sum(axes);
  }
  for (int64_t d0 = 0; d0 < p.out_planes; d0 += p.per_slab) {
    const int64_t d1 = std::min(p.out_planes, d0 + p.per_slab);
    const auto [lo, hi] = receptive_field(d0, d1, k, stride, padding);
    const auto grads =
        at::convolution_backward(grad_output.narrow(2, d0, d1 - d0), depth_window(input, lo, hi),
                                 weight, bias_sizes, strides, paddings, ones, /*transposed=*/false,
                                 zeros, /*groups=*/1, {wanted[0], wanted[1], false});
    if (wanted[0]) {
      // The window's planes inside the volume: the rest were padding.
      const int64_t a = std::max<int64_t>(lo, 0), b = std::min(hi, depth);
      grad_input.narrow(2, a, b - a).add_(std::get<0>(grads).narrow(2, a - lo, b - a));
    }
    if (wanted[1]) grad_weight.add_(std::get<1>(grads));
  }
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace revup
