#include "models/branch.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/conv3d_slabs.h"
#include "core/inference_graph.h"
#include "core/torch_compat.h"

namespace revup {

std::vector<int64_t> BranchShape::kernels() const {
  return kind == BlockKind::kBasic ? std::vector<int64_t>{3, 3} : std::vector<int64_t>{1, 3, 1};
}

std::vector<int64_t> BranchShape::channels() const {
  return kind == BlockKind::kBasic ? std::vector<int64_t>{in, out, out}
                                   : std::vector<int64_t>{in, mid, mid, out};
}

int64_t BranchShape::stride_of(int j) const {
  const int strided = kind == BlockKind::kBasic ? 0 : 1;
  return j == strided ? stride : 1;
}

TensorVector register_fixup_scalars(torch::nn::Module& module, int convs) {
  TensorVector scalars;
  for (int j = 1; j <= convs; ++j) {
    for (const char* suffix : {"a", "b"}) {
      scalars.push_back(
          module.register_parameter("bias" + std::to_string(j) + suffix, torch::zeros({})));
    }
  }
  scalars.push_back(module.register_parameter("scale", torch::ones({})));
  return scalars;
}

void fixup_init(const TensorVector& weights, int64_t total_blocks) {
  torch::NoGradGuard no_grad;
  const auto m = static_cast<double>(weights.size());
  const double depth_scale = std::pow(static_cast<double>(total_blocks), -1.0 / (2.0 * m - 2.0));
  for (size_t j = 0; j + 1 < weights.size(); ++j) {
    auto w = weights[j];
    compat::kaiming_normal_fan_out(w);
    w.mul_(depth_scale);
  }
  weights.back().zero_();
}

torch::Tensor convolution(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias, int64_t stride, int64_t padding) {
  if (weight.dim() == 5) return conv3d_in_slabs(x, weight, bias, stride, padding);
  return torch::conv2d(x, weight, bias, stride, padding);
}

torch::Tensor sum_but_channels(const torch::Tensor& t) {
  std::vector<int64_t> axes{0};
  for (int64_t a = 2; a < t.dim(); ++a) axes.push_back(a);
  return t.sum(axes);
}

torch::Tensor as_pointwise_kernel(const torch::Tensor& matrix, int64_t dims) {
  std::vector<int64_t> shape{matrix.size(0), matrix.size(1)};
  shape.resize(static_cast<size_t>(2 + dims), 1);
  return matrix.view(shape);
}

torch::Tensor BranchConv::run(const torch::Tensor& input) const {
  return convolution(input, weight, bias, stride, padding);
}

BranchConv branch_conv(const BranchShape& shape, const TensorVector& p, int j) {
  const int m = shape.convs();
  const int64_t k = shape.kernels()[static_cast<size_t>(j)];
  BranchConv c;
  c.weight = j + 1 == m ? p[j] * p[3 * m] : p[j];
  c.pre = p[m + 2 * j];
  c.bias = p[m + 2 * j + 1].expand({shape.channels()[static_cast<size_t>(j) + 1]});
  c.pre_in_bias = k == 1;
  if (c.pre_in_bias) c.bias = c.bias + c.pre * c.weight.flatten(1).sum(1);
  c.stride = shape.stride_of(j);
  c.padding = k / 2;
  return c;
}

torch::Tensor fixup_branch_from(const BranchShape& shape, torch::Tensor h, const TensorVector& p,
                                int first, int end, bool input_owned) {
  const int m = shape.convs();
  // Without a graph, a pre-bias goes into a tensor this function owns in place
  // (one pass and no allocation the size of the activation).
  const bool no_graph = !torch::GradMode::is_enabled();
  for (int j = first; j < end; ++j) {
    const auto conv = branch_conv(shape, p, j);
    const bool in_place = no_graph && !conv.pre_in_bias && (j > first || input_owned);
    h = conv.run(in_place ? h.add_(conv.pre)
                          : conv.input_from(h));  // releases the previous activation
    if (j + 1 < m) h.relu_();
  }
  return h;
}

torch::Tensor fixup_branch(const BranchShape& shape, torch::Tensor x, const TensorVector& p) {
  return fixup_branch_from(shape, std::move(x), p, /*first=*/0, shape.convs());
}

namespace {

// What conv `next` of the branch on relu(x) reads: relu(x) itself (next = 0)
// or, with no graph to build and a first 1x1 stride-1 conv, that conv's ReLU
// output, computed from relu(x) band by band (next = 1).
torch::Tensor branch_start_of_relu(const BranchShape& shape, const torch::Tensor& x,
                                   const TensorVector& p, int& next,
                                   std::int64_t band_bytes = kReluBandBytes) {
  if (torch::GradMode::is_enabled() || shape.kernels()[0] != 1 || shape.stride_of(0) != 1) {
    next = 0;
    return torch::relu(x);
  }
  next = 1;
  const auto first = branch_conv(shape, p, 0);  // 1x1: bias_1a rides in its bias
  return conv1x1_of_relu(x, first.weight, first.bias, band_bytes).relu_();
}

}  // namespace

torch::Tensor fixup_branch_of_relu(const BranchShape& shape, const torch::Tensor& x,
                                   const TensorVector& p) {
  int next = 0;
  auto h = branch_start_of_relu(shape, x, p, next);
  return fixup_branch_from(shape, std::move(h), p, next, shape.convs(), /*input_owned=*/true);
}

int describe_fixup_branch(InferenceGraph& graph, const BranchShape& shape, const TensorVector& p,
                          int x, const std::string& scope) {
  const int m = shape.convs();
  int h = x;
  for (int j = 0; j < m; ++j) {
    const auto conv = branch_conv(shape, p, j);
    const auto name = scope + ".conv" + std::to_string(j + 1);
    if (!conv.pre_in_bias) {
      h = graph.add({InferenceOpKind::kAddTensor,
                     {h},
                     {graph.add_tensor(name + ".pre_bias", conv.pre)},
                     {},
                     name});
    }
    h = graph.add({conv_op(shape.dims),
                   {h},
                   {graph.add_tensor(name + ".weight", conv.weight),
                    graph.add_tensor(name + ".bias", conv.bias)},
                   {conv.stride, conv.padding},
                   name});
    if (j + 1 < m) h = graph.add({InferenceOpKind::kRelu, {h}, {}, {}, name});
  }
  return h;
}

torch::Tensor conv1x1_input_grad(const torch::Tensor& grad_out, const torch::Tensor& weight) {
  const int64_t n = grad_out.size(0), o = weight.size(0), i = weight.size(1);
  const auto wt = weight.reshape({o, i}).t().expand({n, i, o});
  auto sizes = grad_out.sizes().vec();
  sizes[1] = i;
  return torch::bmm(wt, grad_out.reshape({n, o, -1})).view(sizes);
}

torch::Tensor conv1x1_weight_grad(const torch::Tensor& grad_out, const torch::Tensor& input) {
  const int64_t n = grad_out.size(0), o = grad_out.size(1), i = input.size(1);
  const auto per_image =
      torch::bmm(grad_out.reshape({n, o, -1}), input.reshape({n, i, -1}).transpose(1, 2));
  return as_pointwise_kernel(n == 1 ? per_image[0] : per_image.sum(0), input.dim() - 2);
}

namespace {

// Rows per band so that a band of x holds at most `band_bytes` (at least one
// row; a row is everything at one index of axis 2: a slab of a volume).
int64_t band_rows(const torch::Tensor& x, std::int64_t band_bytes) {
  const auto row_bytes = static_cast<std::int64_t>(x.nbytes()) / std::max<int64_t>(1, x.size(2));
  return std::max<int64_t>(1, band_bytes / std::max<std::int64_t>(1, row_bytes));
}

// Calls band(b, offset, length) for every band of rows of every image of an
// [N, C, H, W] (or [N, C, D, H, W]) tensor like `like`, bands of at most
// `band_bytes` of it, as offset and length along the pixels of pixels(t, b).
// A band's rows are contiguous in every channel, so each is a strided 2-D
// view, no copy.
template <class Band>
void for_each_band(const torch::Tensor& like, std::int64_t band_bytes, Band band) {
  const int64_t rows = band_rows(like, band_bytes), h = like.size(2);
  const int64_t w = like[0][0].numel() / std::max<int64_t>(1, h);  // pixels per row
  for (int64_t b = 0; b < like.size(0); ++b) {
    for (int64_t r = 0; r < h; r += rows) band(b, r * w, std::min(rows, h - r) * w);
  }
}

// Image b of a contiguous [N, C, ...] tensor as a [C, pixels] matrix.
torch::Tensor pixels(const torch::Tensor& t, int64_t b) { return t[b].view({t.size(1), -1}); }

}  // namespace

torch::Tensor conv1x1_of_relu(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  if (band_rows(x, band_bytes) >= x.size(2)) return convolution(torch::relu(x), weight, bias, 1, 0);
  const int64_t o = weight.size(0), i = weight.size(1);
  const auto xc = x.contiguous();
  const auto wm = weight.reshape({o, i});
  auto sizes = x.sizes().vec();
  sizes[1] = o;
  auto out = torch::empty(sizes, x.options());
  for (int64_t b = 0; b < x.size(0); ++b)
    pixels(out, b).copy_(bias.view({o, 1}).expand_as(pixels(out, b)));
  for_each_band(x, band_bytes, [&](int64_t b, int64_t offset, int64_t length) {
    pixels(out, b)
        .narrow(1, offset, length)
        .addmm_(wm, torch::relu(pixels(xc, b).narrow(1, offset, length)));
  });
  return out;
}

torch::Tensor conv1x1_weight_grad_of_relu(const torch::Tensor& grad_out, const torch::Tensor& x,
                                          std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  if (band_rows(x, band_bytes) >= x.size(2)) {
    return conv1x1_weight_grad(grad_out, torch::relu(x));
  }
  const int64_t o = grad_out.size(1), i = x.size(1);
  const auto xc = x.contiguous();
  const auto gc = grad_out.contiguous();
  auto grad_w = torch::zeros({o, i}, x.options());
  for_each_band(x, band_bytes, [&](int64_t b, int64_t offset, int64_t length) {
    grad_w.addmm_(pixels(gc, b).narrow(1, offset, length),
                  torch::relu(pixels(xc, b).narrow(1, offset, length)).t());
  });
  return as_pointwise_kernel(grad_w, x.dim() - 2);
}

bool subtracts_last_conv_in_bands(const BranchShape& shape) {
  const int m = shape.convs();
  return shape.kernels().back() == 1 && shape.stride_of(m - 1) == 1;
}

double subtract_fixup_branch_of_relu(const BranchShape& shape, torch::Tensor& out,
                                     const torch::Tensor& x, const TensorVector& p,
                                     std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  const int m = shape.convs();
  const auto last = branch_conv(shape, p, m - 1);
  TORCH_CHECK(subtracts_last_conv_in_bands(shape) && out.is_contiguous() &&
                  out.size(1) == last.weight.size(0),
              "subtract_fixup_branch_of_relu: a last 1x1 stride-1 conv and a contiguous output "
              "it writes into");
  // Every conv but the last: h is the ReLU output the last conv reads (a 1x1
  // conv's pre-bias rides in its bias).
  int next = 0;
  auto h = branch_start_of_relu(shape, x, p, next, band_bytes);
  const auto hc =
      fixup_branch_from(shape, std::move(h), p, next, m - 1, /*input_owned=*/true).contiguous();
  const auto wm = last.weight.reshape({out.size(1), hc.size(1)});
  const auto bias = last.bias.view({out.size(1), 1});
  auto squares = torch::zeros({}, out.options().dtype(torch::kFloat64));
  for_each_band(out, band_bytes, [&](int64_t b, int64_t offset, int64_t length) {
    const auto g = torch::addmm(bias, wm, pixels(hc, b).narrow(1, offset, length));
    squares += g.norm().to(torch::kFloat64).square();
    pixels(out, b).narrow(1, offset, length).sub_(g);
  });
  return std::sqrt(squares.item<double>());
}

void add_conv1x1_input_grad_through_relu_(torch::Tensor& target, const torch::Tensor& grad_out,
                                          const torch::Tensor& weight, const torch::Tensor& x,
                                          std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(target.is_contiguous() && target.sizes() == x.sizes(),
              "add_conv1x1_input_grad_through_relu_: target must be contiguous and shaped like x");
  const auto xc = x.contiguous();
  const auto gc = grad_out.contiguous();
  const auto wt = weight.reshape({weight.size(0), weight.size(1)}).t();
  for_each_band(target, band_bytes, [&](int64_t b, int64_t offset, int64_t length) {
    auto grad = torch::mm(wt, pixels(gc, b).narrow(1, offset, length));
    at::threshold_backward_out(grad, grad, pixels(xc, b).narrow(1, offset, length), 0);
    pixels(target, b).narrow(1, offset, length).add_(grad);
  });
}

}  // namespace revup
