#include "models/branch.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

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

torch::Tensor BranchConv::run(const torch::Tensor& input) const {
  return torch::conv2d(input, weight, bias, stride, padding);
}

BranchConv branch_conv(const BranchShape& shape, const TensorVector& p, int j) {
  const int m = shape.convs();
  const int64_t k = shape.kernels()[static_cast<size_t>(j)];
  BranchConv c;
  c.weight = j + 1 == m ? p[j] * p[3 * m] : p[j];
  c.pre = p[m + 2 * j];
  c.bias = p[m + 2 * j + 1].expand({shape.channels()[static_cast<size_t>(j) + 1]});
  c.pre_in_bias = k == 1;
  if (c.pre_in_bias) c.bias = c.bias + c.pre * c.weight.sum({1, 2, 3});
  c.stride = shape.stride_of(j);
  c.padding = k / 2;
  return c;
}

torch::Tensor fixup_branch_from(const BranchShape& shape, torch::Tensor h, const TensorVector& p,
                                int first) {
  const int m = shape.convs();
  for (int j = first; j < m; ++j) {
    const auto conv = branch_conv(shape, p, j);
    h = conv.run(conv.input_from(h));  // releases the previous activation
    if (j + 1 < m) h.relu_();
  }
  return h;
}

torch::Tensor fixup_branch(const BranchShape& shape, torch::Tensor x, const TensorVector& p) {
  return fixup_branch_from(shape, std::move(x), p, /*first=*/0);
}

torch::Tensor fixup_branch_of_relu(const BranchShape& shape, const torch::Tensor& x,
                                   const TensorVector& p) {
  if (torch::GradMode::is_enabled() || shape.kernels()[0] != 1 || shape.stride_of(0) != 1) {
    return fixup_branch(shape, torch::relu(x), p);
  }
  const auto first = branch_conv(shape, p, 0);  // 1x1: bias_1a rides in its bias
  auto h = conv1x1_of_relu(x, first.weight, first.bias).relu_();
  return fixup_branch_from(shape, std::move(h), p, /*first=*/1);
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
    h = graph.add({InferenceOpKind::kConv2d,
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
  return torch::bmm(wt, grad_out.reshape({n, o, -1}))
      .view({n, i, grad_out.size(2), grad_out.size(3)});
}

torch::Tensor conv1x1_weight_grad(const torch::Tensor& grad_out, const torch::Tensor& input) {
  const int64_t n = grad_out.size(0), o = grad_out.size(1), i = input.size(1);
  const auto per_image =
      torch::bmm(grad_out.reshape({n, o, -1}), input.reshape({n, i, -1}).transpose(1, 2));
  return (n == 1 ? per_image[0] : per_image.sum(0)).view({o, i, 1, 1});
}

namespace {

// Rows per band so that a band of x holds at most `band_bytes` (at least one row).
int64_t band_rows(const torch::Tensor& x, std::int64_t band_bytes) {
  const auto row_bytes = static_cast<std::int64_t>(x.nbytes()) / std::max<int64_t>(1, x.size(2));
  return std::max<int64_t>(1, band_bytes / std::max<std::int64_t>(1, row_bytes));
}

}  // namespace

torch::Tensor conv1x1_of_relu(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias, std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  const int64_t rows = band_rows(x, band_bytes), h = x.size(2), w = x.size(3);
  if (rows >= h) return torch::conv2d(torch::relu(x), weight, bias);
  const int64_t n = x.size(0), o = weight.size(0), i = weight.size(1);
  const auto xc = x.contiguous();
  const auto wm = weight.reshape({o, i});
  auto out = torch::empty({n, o, h, w}, x.options());
  for (int64_t b = 0; b < n; ++b) {
    const auto xb = xc[b].view({i, h * w});
    auto ob = out[b].view({o, h * w});
    ob.copy_(bias.view({o, 1}).expand({o, h * w}));
    for (int64_t r = 0; r < h; r += rows) {
      const int64_t len = std::min(rows, h - r) * w;
      // The band's rows are contiguous in every channel: a strided 2-D view.
      ob.narrow(1, r * w, len).addmm_(wm, torch::relu(xb.narrow(1, r * w, len)));
    }
  }
  return out;
}

torch::Tensor conv1x1_weight_grad_of_relu(const torch::Tensor& grad_out, const torch::Tensor& x,
                                          std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  const int64_t rows = band_rows(x, band_bytes), h = x.size(2), w = x.size(3);
  if (rows >= h) return conv1x1_weight_grad(grad_out, torch::relu(x));
  const int64_t n = x.size(0), o = grad_out.size(1), i = x.size(1);
  const auto xc = x.contiguous();
  const auto gc = grad_out.contiguous();
  auto grad_w = torch::zeros({o, i}, x.options());
  for (int64_t b = 0; b < n; ++b) {
    const auto xb = xc[b].view({i, h * w});
    const auto gb = gc[b].view({o, h * w});
    for (int64_t r = 0; r < h; r += rows) {
      const int64_t len = std::min(rows, h - r) * w;
      grad_w.addmm_(gb.narrow(1, r * w, len), torch::relu(xb.narrow(1, r * w, len)).t());
    }
  }
  return grad_w.view({o, i, 1, 1});
}

double subtract_fixup_branch_of_relu(const BranchShape& shape, torch::Tensor& out,
                                     const torch::Tensor& x, const TensorVector& p,
                                     std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  const int m = shape.convs();
  const auto last = branch_conv(shape, p, m - 1);
  const bool banded = shape.kernels().back() == 1 && shape.stride_of(m - 1) == 1 &&
                      out.is_contiguous() && out.size(1) == last.weight.size(0);
  if (!banded) {
    const auto g = fixup_branch_of_relu(shape, x, p);
    const double norm = g.norm().item<double>();
    out.sub_(g);
    return norm;
  }
  // Every conv but the last: h is the ReLU output the last conv reads (a 1x1
  // conv's pre-bias rides in its bias).
  torch::Tensor h;
  int next = 0;
  if (shape.kernels()[0] == 1 && shape.stride_of(0) == 1) {
    const auto first = branch_conv(shape, p, 0);
    h = conv1x1_of_relu(x, first.weight, first.bias, band_bytes).relu_();
    next = 1;
  } else {
    h = torch::relu(x);
  }
  for (int j = next; j + 1 < m; ++j) {
    const auto conv = branch_conv(shape, p, j);
    h = conv.run(conv.input_from(h)).relu_();
  }
  const int64_t n = out.size(0), o = out.size(1), i = h.size(1), rows_total = out.size(2),
                w = out.size(3);
  const int64_t rows = band_rows(out, band_bytes);
  const auto hc = h.contiguous();
  const auto wm = last.weight.reshape({o, i});
  const auto bias = last.bias.view({o, 1});
  auto squares = torch::zeros({}, out.options().dtype(torch::kFloat64));
  for (int64_t b = 0; b < n; ++b) {
    const auto hb = hc[b].view({i, rows_total * w});
    auto ob = out[b].view({o, rows_total * w});
    for (int64_t r = 0; r < rows_total; r += rows) {
      const int64_t len = std::min(rows, rows_total - r) * w;
      const auto g = torch::addmm(bias, wm, hb.narrow(1, r * w, len));
      squares += g.square().sum().to(torch::kFloat64);
      ob.narrow(1, r * w, len).sub_(g);
    }
  }
  return std::sqrt(squares.item<double>());
}

void add_conv1x1_input_grad_through_relu_(torch::Tensor& target, const torch::Tensor& grad_out,
                                          const torch::Tensor& weight, const torch::Tensor& x,
                                          std::int64_t band_bytes) {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(target.is_contiguous() && target.sizes() == x.sizes(),
              "add_conv1x1_input_grad_through_relu_: target must be contiguous and shaped like x");
  const int64_t n = x.size(0), i = x.size(1), h = x.size(2), w = x.size(3), o = weight.size(0);
  const int64_t rows = band_rows(target, band_bytes);
  const auto xc = x.contiguous();
  const auto gc = grad_out.contiguous();
  const auto wt = weight.reshape({o, i}).t();
  for (int64_t b = 0; b < n; ++b) {
    const auto xb = xc[b].view({i, h * w});
    const auto gb = gc[b].view({o, h * w});
    auto tb = target[b].view({i, h * w});
    for (int64_t r = 0; r < h; r += rows) {
      const int64_t len = std::min(rows, h - r) * w;
      auto grad = torch::mm(wt, gb.narrow(1, r * w, len));
      at::threshold_backward_out(grad, grad, xb.narrow(1, r * w, len), 0);
      tb.narrow(1, r * w, len).add_(grad);
    }
  }
}

}  // namespace revup
