#include "models/upsampled_loss.h"

#include "models/branch.h"
#include "models/conv1x1.h"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace revup {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Bilinear taps of output positions [begin, end) along one axis, as
// interpolate(align_corners=false) computes them: the scale is in/out in
// float, the source index is clamped at 0, the upper tap at the last input.
struct LinearTaps {
  torch::Tensor lo, hi;         // int64 input indices, relative to `first`
  torch::Tensor weight;         // float weight of `hi`
  int64_t first = 0, last = 0;  // the input positions they touch
};

// PyTorch computes the taps in the tensor's own precision (float for float).
template <class Real>
LinearTaps linear_taps_in(int64_t in, int64_t out, int64_t begin, int64_t end) {
  const Real scale = static_cast<Real>(in) / static_cast<Real>(out);
  const auto n = end - begin;
  std::vector<int64_t> lo(n), hi(n);
  std::vector<double> weight(n);
  for (int64_t i = 0; i < n; ++i) {
    const Real src =
        std::max(scale * (static_cast<Real>(begin + i) + Real(0.5)) - Real(0.5), Real(0));
    lo[i] = std::min(static_cast<int64_t>(src), in - 1);
    hi[i] = lo[i] + (lo[i] < in - 1 ? 1 : 0);
    weight[i] = static_cast<double>(src - static_cast<Real>(lo[i]));
  }
  LinearTaps t;
  t.first = lo.front();
  t.last = hi.back();
  for (auto& v : lo) v -= t.first;
  for (auto& v : hi) v -= t.first;
  t.lo = torch::tensor(lo, torch::kLong);
  t.hi = torch::tensor(hi, torch::kLong);
  t.weight = torch::tensor(weight, torch::kDouble);
  return t;
}

LinearTaps linear_taps(int64_t in, int64_t out, int64_t begin, int64_t end, c10::ScalarType dtype) {
  return dtype == torch::kDouble ? linear_taps_in<double>(in, out, begin, end)
                                 : linear_taps_in<float>(in, out, begin, end);
}

// t resampled along `axis` at the taps' positions (linear interpolation).
torch::Tensor interpolate_axis(const torch::Tensor& t, int64_t axis, const LinearTaps& taps) {
  const auto device = t.device();
  std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
  shape[static_cast<size_t>(axis)] = -1;
  const auto w = taps.weight.to(device, t.scalar_type()).view(shape);
  return t.index_select(axis, taps.lo.to(device)) * (1 - w) +
         t.index_select(axis, taps.hi.to(device)) * w;
}

// Rows [r0, r1) of the upsampled logits from the coarse rows they need
// (`rows_of_coarse`, which starts at coarse row taps.first). A row is what
// lies at one index of the first spatial axis: a plane of a volume, whose
// other axes `others` upsample whole.
torch::Tensor upsample_band(const torch::Tensor& rows_of_coarse, const LinearTaps& rows,
                            const std::vector<LinearTaps>& others,
                            const LinearTaps* plane_rows = nullptr) {
  namespace F = torch::nn::functional;
  auto y = interpolate_axis(rows_of_coarse, 2, rows);
  if (others.size() == 2 && plane_rows != nullptr) {
    // Part of a volume's plane (a plane is more than a band): its rows by the
    // taps, then each row's W axis whole by LibTorch's linear kernel.
    y = interpolate_axis(y.narrow(3, plane_rows->first, plane_rows->last - plane_rows->first + 1),
                         3, *plane_rows);
    const auto n = y.size(0), k = y.size(1), r = y.size(2), rh = y.size(3);
    const auto width = others[1].lo.size(0);
    return F::interpolate(y.reshape({n, k * r * rh, y.size(4)}),
                          F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{width})
                              .mode(torch::kLinear)
                              .align_corners(false))
        .view({n, k, r, rh, width});
  }
  if (others.size() == 2) {
    // A volume's planes: bilinear upsampling over the whole plane, the same
    // taps (align_corners=false on the full extent) in LibTorch's own kernel,
    // whose backward is far cheaper than two index_select's (an index_add
    // along a strided axis). A step on ch2 with 117 classes (2 threads): the
    // loss with the decoder took 57 s of 68 before, 6.8 of 12.8 after.
    const auto n = y.size(0), k = y.size(1), r = y.size(2);
    const std::vector<int64_t> plane{others[0].lo.size(0), others[1].lo.size(0)};
    const auto planes = y.reshape({n, k * r, y.size(3), y.size(4)});
    return F::interpolate(
               planes,
               F::InterpolateFuncOptions().size(plane).mode(torch::kBilinear).align_corners(false))
        .view({n, k, r, plane[0], plane[1]});
  }
  for (size_t i = 0; i < others.size(); ++i) {
    y = interpolate_axis(y, 3 + static_cast<int64_t>(i), others[i]);
  }
  return y;
}

// The taps of every spatial axis after the first, over the whole target.
std::vector<LinearTaps> other_axes_taps(const std::vector<int64_t>& coarse, c10::ScalarType dtype,
                                        const torch::Tensor& target) {
  std::vector<LinearTaps> taps;
  for (int64_t a = 2; a < target.dim(); ++a) {
    taps.push_back(
        linear_taps(coarse[static_cast<size_t>(a + 1)], target.size(a), 0, target.size(a), dtype));
  }
  return taps;
}

// A band: rows [r0, r1) of the first spatial axis and, for a volume whose
// plane alone is more than a band, rows [h0, h1) of that plane (h1 = 0: all).
struct BandSpan {
  int64_t r0 = 0, r1 = 0, h0 = 0, h1 = 0;
};

std::vector<BandSpan> band_spans(const std::vector<int64_t>& coarse, const torch::Tensor& target,
                                 int64_t band_elements) {
  int64_t per_row = coarse[0] * coarse[1];
  for (int64_t a = 2; a < target.dim(); ++a) per_row *= target.size(a);
  const int64_t rows = target.size(1);
  std::vector<BandSpan> spans;
  if (target.dim() == 4 && per_row > band_elements) {
    // One plane of 117 classes at 217x181 is 18 MiB: its rows in bands.
    const int64_t height = target.size(2);
    const int64_t per_line = std::max<int64_t>(per_row / height, 1);
    const int64_t step = std::max<int64_t>(1, band_elements / per_line);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t h0 = 0; h0 < height; h0 += step) {
        spans.push_back({r, r + 1, h0, std::min(height, h0 + step)});
      }
    }
    return spans;
  }
  const int64_t step = std::max<int64_t>(1, band_elements / std::max<int64_t>(per_row, 1));
  for (int64_t r0 = 0; r0 < rows; r0 += step) spans.push_back({r0, std::min(rows, r0 + step)});
  return spans;
}

// Every axis but the classes' (1): what the Dice sums run over.
std::vector<int64_t> all_but_classes(const torch::Tensor& t) {
  std::vector<int64_t> axes{0};
  for (int64_t a = 2; a < t.dim(); ++a) axes.push_back(a);
  return axes;
}

// The per-class sums the soft Dice needs, over all labelled pixels.
struct DiceSums {
  torch::Tensor intersection, prob_sum, label_sum;  // [K], double
};

struct Band {
  torch::Tensor logits;  // [N, K, R, W] (or [N, K, R, H, W]) upsampled
  torch::Tensor labels;  // [N, R, W] (or [N, R, H, W]) int64, ignore replaced by 0
  torch::Tensor valid;   // the same, bool
};

Band make_band(const torch::Tensor& coarse_rows, const torch::Tensor& target, const BandSpan& span,
               const LinearTaps& rows, const std::vector<LinearTaps>& others,
               int64_t ignore_index) {
  Band b;
  auto t = target.narrow(1, span.r0, span.r1 - span.r0);
  if (span.h1 > 0) {
    const auto plane_rows = linear_taps(coarse_rows.size(3), target.size(2), span.h0, span.h1,
                                        coarse_rows.scalar_type());
    b.logits = upsample_band(coarse_rows, rows, others, &plane_rows);
    t = t.narrow(2, span.h0, span.h1 - span.h0);
  } else {
    b.logits = upsample_band(coarse_rows, rows, others);
  }
  t = t.to(torch::kLong);
  b.valid = t.ne(ignore_index);
  b.labels = t.masked_fill(b.valid.logical_not(), 0);
  return b;
}

// What the loss's forward kept (the logits, or the head's features), taken
// out of the context so that this backward holds the only reference the loss
// had.
torch::Tensor take_input(AutogradContext* ctx, const std::string& what) {
  const auto it = ctx->saved_data.find("input");
  if (it == ctx->saved_data.end()) {
    throw std::runtime_error("backward through the upsampled segmentation loss ran twice; its " +
                             what + " now hold their gradient (compute the loss again)");
  }
  auto input = it->second.toTensor();
  ctx->saved_data.erase(it);
  if (static_cast<int64_t>(input._version()) != ctx->saved_data["input_version"].toInt()) {
    throw std::runtime_error("the " + what +
                             " given to the upsampled segmentation loss were modified in place "
                             "before its backward");
  }
  return input;
}

// When nothing else holds the loss's input (training passes it straight in),
// its gradient goes into its own storage: at ch2 with 117 classes that is 51
// MiB of logits not allocated at the step's peak. Detached: the writes are
// not part of any graph.
torch::Tensor gradient_storage(const torch::Tensor& input) {
  const bool only_holder = input.use_count() == 1 && input.storage().use_count() == 1;
  return only_holder ? input.detach() : torch::empty_like(input);
}

// Where the bands' coarse logits come from: the logits themselves, or
// features through ReLU and a 1x1 head, computed for the few coarse rows a
// band reads and kept while the next bands read the same rows.
class CoarseRows {
 public:
  explicit CoarseRows(torch::Tensor logits) : input_(std::move(logits)) {}
  CoarseRows(torch::Tensor features, torch::Tensor weight, torch::Tensor bias)
      : input_(std::move(features)), weight_(std::move(weight)), bias_(std::move(bias)) {}

  // The logits' sizes: [N, K, rows, ...].
  std::vector<int64_t> sizes() const {
    auto s = input_.sizes().vec();
    if (weight_.defined()) s[1] = weight_.size(0);
    return s;
  }
  c10::ScalarType dtype() const { return input_.scalar_type(); }
  int64_t dim() const { return input_.dim(); }

  // Logit rows [first, first + count), no graph.
  torch::Tensor rows(int64_t first, int64_t count) {
    if (!weight_.defined()) return input_.narrow(2, first, count);
    if (first != cached_first_ || count != cached_.size(2)) {
      torch::NoGradGuard no_grad;
      cached_ = torch::Tensor();  // freed before the next rows exist
      cached_ = conv1x1(torch::relu(input_.narrow(2, first, count)), weight_, bias_);
      cached_first_ = first;
    }
    return cached_;
  }

 private:
  torch::Tensor input_, weight_, bias_;
  torch::Tensor cached_;
  int64_t cached_first_ = -1;
};

// The logits' gradient, gathered by coarse row (the first spatial axis):
// neighbouring bands read overlapping rows, so a row's gradient is pending
// until the bands reach past it, then handed to `settle` (an undefined
// gradient: zero). Settling may overwrite the loss's input at that row: the
// bands still to come read it only from their first row on.
class SettledRows {
 public:
  using Settle = std::function<void(int64_t row, const torch::Tensor& grad)>;
  explicit SettledRows(Settle settle) : settle_(std::move(settle)) {}

  // g: the gradient of rows [first, first + g.size(2)). A row is kept as a
  // copy of its own: a view would keep the whole band's gradient alive (two
  // coarse planes of 117 classes at ch2, 2.3 MiB, for each pending row).
  void add(int64_t first, const torch::Tensor& g) {
    for (int64_t j = 0; j < g.size(2); ++j) {
      auto row = g.narrow(2, j, 1);
      const auto it = pending_.find(first + j);
      if (it == pending_.end()) {
        pending_.emplace(first + j, row.clone());
      } else {
        it->second.add_(row);
      }
    }
  }

  // Settles every row below `row`: those no band will add to any more.
  void settle_below(int64_t row) {
    for (; settled_ < row; ++settled_) {
      const auto it = pending_.find(settled_);
      if (it == pending_.end()) {
        settle_(settled_, torch::Tensor());
      } else {
        settle_(settled_, it->second);
        pending_.erase(it);
      }
    }
  }

 private:
  Settle settle_;
  std::map<int64_t, torch::Tensor> pending_;
  int64_t settled_ = 0;
};

// The loss over every band, with what its backward needs kept in ctx (all
// but the input, which the caller keeps). settings.band_elements resolved (> 0).
torch::Tensor loss_forward(AutogradContext* ctx, CoarseRows& source, const torch::Tensor& target,
                           const UpsampledLossOptions& settings) {
  const auto height = target.size(1);
  const auto sizes = source.sizes();
  const auto classes = sizes[1];
  const auto others = other_axes_taps(sizes, source.dtype(), target);
  double ce_sum = 0;
  int64_t labelled = 0;
  const auto zeros = torch::zeros({classes}, torch::kDouble);
  DiceSums sums{zeros.clone(), zeros.clone(), zeros.clone()};
  for (const auto& span : band_spans(sizes, target, settings.band_elements)) {
    const auto rows = linear_taps(sizes[2], height, span.r0, span.r1, source.dtype());
    const auto b = make_band(source.rows(rows.first, rows.last - rows.first + 1), target, span,
                             rows, others, settings.ignore_index);
    const auto top = b.labels.max().item<int64_t>();
    const auto bottom = b.labels.min().item<int64_t>();
    if (top >= classes || bottom < 0) {
      throw std::invalid_argument("the labels hold class " +
                                  std::to_string(top >= classes ? top : bottom) +
                                  " but the model predicts " + std::to_string(classes) +
                                  " classes (0.." + std::to_string(classes - 1) + "; " +
                                  std::to_string(settings.ignore_index) + " = ignore)");
    }
    const auto log_probs = torch::log_softmax(b.logits, 1);
    const auto nll = -log_probs.gather(1, b.labels.unsqueeze(1)).squeeze(1);
    ce_sum += nll.masked_fill(b.valid.logical_not(), 0).sum().item<double>();
    labelled += b.valid.sum().item<int64_t>();
    if (settings.dice_weight > 0) {
      const auto valid = b.valid.unsqueeze(1).to(log_probs.dtype());
      const auto probs = log_probs.exp() * valid;
      const auto one_hot = torch::zeros_like(probs).scatter_(1, b.labels.unsqueeze(1), 1.0) * valid;
      const auto dims = all_but_classes(probs);
      sums.intersection += (probs * one_hot).sum(dims).to(torch::kDouble);
      sums.prob_sum += probs.sum(dims).to(torch::kDouble);
      sums.label_sum += one_hot.sum(dims).to(torch::kDouble);
    }
  }
  double loss = labelled > 0 ? ce_sum / static_cast<double>(labelled) : 0.0;
  if (settings.dice_weight > 0) {
    const auto present = sums.label_sum.gt(0);
    const auto dice = (2 * sums.intersection + 1) / (sums.prob_sum + sums.label_sum + 1);
    if (present.any().item<bool>()) {
      loss += settings.dice_weight * (1.0 - dice.masked_select(present).mean().item<double>());
    }
  }
  ctx->saved_data["target"] = target;
  ctx->saved_data["ignore_index"] = settings.ignore_index;
  ctx->saved_data["dice_weight"] = settings.dice_weight;
  ctx->saved_data["band_elements"] = settings.band_elements;
  ctx->saved_data["labelled"] = labelled;
  ctx->saved_data["intersection"] = sums.intersection;
  ctx->saved_data["prob_sum"] = sums.prob_sum;
  ctx->saved_data["label_sum"] = sums.label_sum;
  return torch::tensor(loss, torch::TensorOptions().dtype(source.dtype()));
}

// Kept as data, not a saved variable, so that backward can take the only
// reference and write the gradient into the input's own storage.
void keep_input(AutogradContext* ctx, const torch::Tensor& input) {
  ctx->saved_data["input"] = input;
  ctx->saved_data["input_version"] = static_cast<int64_t>(input._version());
}

bool anything_labelled(AutogradContext* ctx) { return ctx->saved_data["labelled"].toInt() > 0; }

// Every band's backward; each coarse row's complete gradient (of the loss,
// not yet times grad_output) goes to `settle`, in row order.
void loss_backward(AutogradContext* ctx, CoarseRows& source, const SettledRows::Settle& settle) {
  const auto target = ctx->saved_data["target"].toTensor();
  const auto ignore_index = ctx->saved_data["ignore_index"].toInt();
  const auto dice_weight = ctx->saved_data["dice_weight"].toDouble();
  const auto labelled = ctx->saved_data["labelled"].toInt();
  const auto band_elements = ctx->saved_data["band_elements"].toInt();
  const auto height = target.size(1);
  const auto sizes = source.sizes();
  const auto others = other_axes_taps(sizes, source.dtype(), target);
  const auto options = torch::TensorOptions().dtype(source.dtype()).device(target.device());
  SettledRows rows_done(settle);

  // d(soft Dice loss)/d(prob) = a_c * one_hot + b_c for classes in the
  // target; the global sums make it a constant per class.
  torch::Tensor a, b;
  if (dice_weight > 0) {
    const auto inter = ctx->saved_data["intersection"].toTensor();
    const auto label_sum = ctx->saved_data["label_sum"].toTensor();
    const auto total = ctx->saved_data["prob_sum"].toTensor() + label_sum + 1;
    const auto present = label_sum.gt(0).to(torch::kDouble);
    const auto count = present.sum().item<double>();
    if (count > 0) {
      std::vector<int64_t> shape(static_cast<size_t>(source.dim()), 1);
      shape[1] = -1;
      a = (-2.0 * dice_weight / count * present / total).to(options).view(shape);
      b = (dice_weight / count * present * (2 * inter + 1) / (total * total))
              .to(options)
              .view(shape);
    }
  }
  torch::AutoGradMode enable_grad(true);
  for (const auto& band_span : band_spans(sizes, target, band_elements)) {
    const auto rows = linear_taps(sizes[2], height, band_span.r0, band_span.r1, source.dtype());
    const auto span = rows.last - rows.first + 1;
    // No later band reads the rows before this band's first.
    rows_done.settle_below(rows.first);
    const auto coarse_rows = source.rows(rows.first, span).detach().requires_grad_(true);
    const auto band = make_band(coarse_rows, target, band_span, rows, others, ignore_index);
    const auto log_probs = torch::log_softmax(band.logits, 1);
    const auto nll = -log_probs.gather(1, band.labels.unsqueeze(1)).squeeze(1);
    auto local = nll.masked_fill(band.valid.logical_not(), 0).sum() / static_cast<double>(labelled);
    if (a.defined()) {
      const auto valid = band.valid.unsqueeze(1).to(log_probs.dtype());
      const auto one_hot = torch::zeros_like(log_probs).scatter_(1, band.labels.unsqueeze(1), 1.0);
      local = local + (log_probs.exp() * valid * (a * one_hot + b)).sum();
    }
    rows_done.add(rows.first, torch::autograd::grad({local}, {coarse_rows})[0]);
  }
  rows_done.settle_below(sizes[2]);
}

class UpsampledLoss : public torch::autograd::Function<UpsampledLoss> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor coarse, torch::Tensor target,
                               int64_t ignore_index, double dice_weight, int64_t band_elements) {
    CoarseRows source(coarse);
    auto loss = loss_forward(ctx, source, target, {ignore_index, dice_weight, band_elements})
                    .to(coarse.device());
    keep_input(ctx, coarse);
    return loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const auto coarse = take_input(ctx, "logits");
    if (!anything_labelled(ctx)) return {torch::zeros_like(coarse), {}, {}, {}, {}};
    auto grad = gradient_storage(coarse);
    CoarseRows source(coarse);
    loss_backward(ctx, source, [&](int64_t row, const torch::Tensor& g) {
      auto dest = grad.narrow(2, row, 1);
      if (g.defined()) {
        dest.copy_(g);
      } else {
        dest.zero_();
      }
    });
    return {grad.mul_(grad_output[0]), {}, {}, {}, {}};
  }
};

// The loss of relu(features) through a 1x1 head: the coarse logits exist a
// few rows at a time, in forward and in backward; each settled row's logit
// gradient becomes the head's and the features' gradients at once.
class HeadUpsampledLoss : public torch::autograd::Function<HeadUpsampledLoss> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor features, torch::Tensor weight,
                               torch::Tensor bias, torch::Tensor target, int64_t ignore_index,
                               double dice_weight, int64_t band_elements) {
    CoarseRows source(features, weight, bias);
    auto loss = loss_forward(ctx, source, target, {ignore_index, dice_weight, band_elements})
                    .to(features.device());
    keep_input(ctx, features);
    ctx->save_for_backward({weight, bias});
    return loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const auto features = take_input(ctx, "features");
    const auto saved = ctx->get_saved_variables();
    const auto& weight = saved[0];
    const auto& bias = saved[1];
    if (!anything_labelled(ctx)) {
      return {torch::zeros_like(features),
              torch::zeros_like(weight),
              bias.defined() ? torch::zeros_like(bias) : torch::Tensor(),
              {},
              {},
              {},
              {}};
    }
    auto grad_features = gradient_storage(features);
    auto grad_weight = torch::zeros_like(weight);
    auto grad_bias = bias.defined() ? torch::zeros_like(bias) : torch::Tensor();
    CoarseRows source(features, weight, bias);
    loss_backward(ctx, source, [&](int64_t row, const torch::Tensor& g) {
      torch::NoGradGuard no_grad;
      auto dest = grad_features.narrow(2, row, 1);
      if (!g.defined()) {
        dest.zero_();
        return;
      }
      const auto x = features.narrow(2, row, 1);  // read before dest overwrites it
      grad_weight.add_(conv1x1_weight_grad_of_relu(g, x));
      if (grad_bias.defined()) grad_bias.add_(sum_but_channels(g));
      auto gx = conv1x1_input_grad(g, weight);
      at::threshold_backward_out(gx, gx, x, 0);  // relu'(x)
      dest.copy_(gx);
    });
    const auto& go = grad_output[0];
    if (grad_bias.defined()) grad_bias.mul_(go);
    return {grad_features.mul_(go), grad_weight.mul_(go), grad_bias, {}, {}, {}, {}};
  }
};

}  // namespace

torch::Tensor upsample_rows(const torch::Tensor& coarse, int64_t height, int64_t width,
                            int64_t row_begin, int64_t row_end) {
  const auto rows = linear_taps(coarse.size(2), height, row_begin, row_end, coarse.scalar_type());
  const std::vector<LinearTaps> cols{
      linear_taps(coarse.size(3), width, 0, width, coarse.scalar_type())};
  return upsample_band(coarse.narrow(2, rows.first, rows.last - rows.first + 1), rows, cols);
}

namespace {

int64_t band_elements(const UpsampledLossOptions& options, int64_t dims) {
  if (options.band_elements > 0) return options.band_elements;
  return dims == 5 ? int64_t{1} << 19 : int64_t{1} << 20;
}

// `sizes`: the coarse logits' ([N, K, h, w] or [N, K, d, h, w]).
void check_loss_shapes(const char* caller, c10::IntArrayRef sizes, const torch::Tensor& target) {
  const auto dims = static_cast<int64_t>(sizes.size());
  const bool shapes_match =
      (dims == 4 || dims == 5) && target.dim() == dims - 1 && sizes[0] == target.size(0);
  if (!shapes_match) {
    throw std::invalid_argument(std::string(caller) +
                                ": logits must be [N, K, h, w] (or [N, K, d, h, w]) and "
                                "labels [N, H, W] (or [N, D, H, W]) with the same N");
  }
  for (int64_t a = 1; a < target.dim(); ++a) {
    if (sizes[static_cast<size_t>(a + 1)] > target.size(a)) {
      throw std::invalid_argument(std::string(caller) +
                                  ": the labels are smaller than the "
                                  "logits they should be upsampled to");
    }
  }
}

}  // namespace

torch::Tensor upsampled_segmentation_loss(const torch::Tensor& coarse, const torch::Tensor& target,
                                          const UpsampledLossOptions& options) {
  check_loss_shapes("upsampled_segmentation_loss", coarse.sizes(), target);
  return UpsampledLoss::apply(coarse, target, options.ignore_index, options.dice_weight,
                              band_elements(options, coarse.dim()));
}

torch::Tensor head_upsampled_segmentation_loss(const torch::Tensor& features,
                                               const torch::Tensor& weight,
                                               const torch::Tensor& bias,
                                               const torch::Tensor& target,
                                               const UpsampledLossOptions& options) {
  const bool pointwise = weight.dim() == features.dim() && weight[0][0].numel() == 1 &&
                         weight.size(1) == features.size(1) &&
                         (!bias.defined() || bias.sizes() == c10::IntArrayRef{weight.size(0)});
  if (!pointwise) {
    throw std::invalid_argument(
        "head_upsampled_segmentation_loss: the head must be a 1x1 (1x1x1) convolution from the "
        "features' " +
        std::to_string(features.size(1)) + " channels, with one bias per class");
  }
  auto sizes = features.sizes().vec();
  sizes[1] = weight.size(0);
  check_loss_shapes("head_upsampled_segmentation_loss", sizes, target);
  return HeadUpsampledLoss::apply(features, weight, bias, target, options.ignore_index,
                                  options.dice_weight, band_elements(options, features.dim()));
}

}  // namespace revup
