#include "models/upsampled_loss.h"

#include <algorithm>
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
std::vector<LinearTaps> other_axes_taps(const torch::Tensor& coarse, const torch::Tensor& target) {
  std::vector<LinearTaps> taps;
  for (int64_t a = 2; a < target.dim(); ++a) {
    taps.push_back(
        linear_taps(coarse.size(a + 1), target.size(a), 0, target.size(a), coarse.scalar_type()));
  }
  return taps;
}

// A band: rows [r0, r1) of the first spatial axis and, for a volume whose
// plane alone is more than a band, rows [h0, h1) of that plane (h1 = 0: all).
struct BandSpan {
  int64_t r0 = 0, r1 = 0, h0 = 0, h1 = 0;
};

std::vector<BandSpan> band_spans(const torch::Tensor& coarse, const torch::Tensor& target,
                                 int64_t band_elements) {
  int64_t per_row = coarse.size(0) * coarse.size(1);
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

// The logits the loss's forward kept, taken out of the context so that this
// backward holds the only reference the loss had.
torch::Tensor take_logits(AutogradContext* ctx) {
  const auto it = ctx->saved_data.find("coarse");
  if (it == ctx->saved_data.end()) {
    throw std::runtime_error(
        "backward through the upsampled segmentation loss ran twice; its logits now hold their "
        "gradient (compute the loss again)");
  }
  auto coarse = it->second.toTensor();
  ctx->saved_data.erase(it);
  if (static_cast<int64_t>(coarse._version()) != ctx->saved_data["coarse_version"].toInt()) {
    throw std::runtime_error(
        "the logits given to the upsampled segmentation loss were modified in place before its "
        "backward");
  }
  return coarse;
}

// The logits' gradient, gathered by coarse row (the first spatial axis):
// neighbouring bands read overlapping rows, so a row's gradient is pending
// until the bands reach past it, then written into `grad` (which may be the
// logits themselves, read by the bands still to come only from their first
// row on).
class SettledRows {
 public:
  explicit SettledRows(torch::Tensor grad) : grad_(std::move(grad)) {}

  // g: the gradient of rows [first, first + g.size(2)).
  void add(int64_t first, const torch::Tensor& g) {
    for (int64_t j = 0; j < g.size(2); ++j) {
      auto row = g.narrow(2, j, 1);
      auto [it, inserted] = pending_.try_emplace(first + j, row);
      if (!inserted) it->second.add_(row);
    }
  }

  // Writes every row below `row`: those no band will add to any more.
  void settle_below(int64_t row) {
    for (; settled_ < row; ++settled_) {
      auto dest = grad_.narrow(2, settled_, 1);
      const auto it = pending_.find(settled_);
      if (it == pending_.end()) {
        dest.zero_();
      } else {
        dest.copy_(it->second);
        pending_.erase(it);
      }
    }
  }

 private:
  torch::Tensor grad_;
  std::map<int64_t, torch::Tensor> pending_;
  int64_t settled_ = 0;
};

class UpsampledLoss : public torch::autograd::Function<UpsampledLoss> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor coarse, torch::Tensor target,
                               int64_t ignore_index, double dice_weight, int64_t band_elements) {
    const auto height = target.size(1);
    const auto classes = coarse.size(1);
    const auto others = other_axes_taps(coarse, target);
    double ce_sum = 0;
    int64_t labelled = 0;
    const auto zeros = torch::zeros({classes}, torch::kDouble);
    DiceSums sums{zeros.clone(), zeros.clone(), zeros.clone()};
    for (const auto& span : band_spans(coarse, target, band_elements)) {
      const auto rows = linear_taps(coarse.size(2), height, span.r0, span.r1, coarse.scalar_type());
      const auto b = make_band(coarse.narrow(2, rows.first, rows.last - rows.first + 1), target,
                               span, rows, others, ignore_index);
      const auto top = b.labels.max().item<int64_t>();
      const auto bottom = b.labels.min().item<int64_t>();
      if (top >= classes || bottom < 0) {
        throw std::invalid_argument(
            "the labels hold class " + std::to_string(top >= classes ? top : bottom) +
            " but the model predicts " + std::to_string(classes) + " classes (0.." +
            std::to_string(classes - 1) + "; " + std::to_string(ignore_index) + " = ignore)");
      }
      const auto log_probs = torch::log_softmax(b.logits, 1);
      const auto nll = -log_probs.gather(1, b.labels.unsqueeze(1)).squeeze(1);
      ce_sum += nll.masked_fill(b.valid.logical_not(), 0).sum().item<double>();
      labelled += b.valid.sum().item<int64_t>();
      if (dice_weight > 0) {
        const auto valid = b.valid.unsqueeze(1).to(log_probs.dtype());
        const auto probs = log_probs.exp() * valid;
        const auto one_hot =
            torch::zeros_like(probs).scatter_(1, b.labels.unsqueeze(1), 1.0) * valid;
        const auto dims = all_but_classes(probs);
        sums.intersection += (probs * one_hot).sum(dims).to(torch::kDouble);
        sums.prob_sum += probs.sum(dims).to(torch::kDouble);
        sums.label_sum += one_hot.sum(dims).to(torch::kDouble);
      }
    }
    double loss = labelled > 0 ? ce_sum / static_cast<double>(labelled) : 0.0;
    if (dice_weight > 0) {
      const auto present = sums.label_sum.gt(0);
      const auto dice = (2 * sums.intersection + 1) / (sums.prob_sum + sums.label_sum + 1);
      if (present.any().item<bool>()) {
        loss += dice_weight * (1.0 - dice.masked_select(present).mean().item<double>());
      }
    }
    // Kept as data, not a saved variable, so that backward can take the only
    // reference and write the gradient into the logits' own storage.
    ctx->saved_data["coarse"] = coarse;
    ctx->saved_data["coarse_version"] = static_cast<int64_t>(coarse._version());
    ctx->saved_data["target"] = target;
    ctx->saved_data["ignore_index"] = ignore_index;
    ctx->saved_data["dice_weight"] = dice_weight;
    ctx->saved_data["band_elements"] = band_elements;
    ctx->saved_data["labelled"] = labelled;
    ctx->saved_data["intersection"] = sums.intersection;
    ctx->saved_data["prob_sum"] = sums.prob_sum;
    ctx->saved_data["label_sum"] = sums.label_sum;
    return torch::tensor(loss, coarse.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const auto coarse = take_logits(ctx);
    const auto target = ctx->saved_data["target"].toTensor();
    const auto ignore_index = ctx->saved_data["ignore_index"].toInt();
    const auto dice_weight = ctx->saved_data["dice_weight"].toDouble();
    const auto labelled = ctx->saved_data["labelled"].toInt();
    const auto height = target.size(1);
    const auto others = other_axes_taps(coarse, target);
    const auto band_elements = ctx->saved_data["band_elements"].toInt();
    if (labelled == 0) return {torch::zeros_like(coarse), {}, {}, {}, {}};
    // When nothing else holds the logits (training passes them straight in),
    // their gradient goes into their own storage: at ch2 with 117 classes
    // that is 51 MiB not allocated at the step's peak.
    // Detached: the writes are not part of any graph.
    const bool only_holder = coarse.use_count() == 1 && coarse.storage().use_count() == 1;
    auto grad = only_holder ? coarse.detach() : torch::empty_like(coarse);
    SettledRows rows_done(grad);

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
        std::vector<int64_t> shape(static_cast<size_t>(coarse.dim()), 1);
        shape[1] = -1;
        a = (-2.0 * dice_weight / count * present / total).to(coarse.options()).view(shape);
        b = (dice_weight / count * present * (2 * inter + 1) / (total * total))
                .to(coarse.options())
                .view(shape);
      }
    }
    torch::AutoGradMode enable_grad(true);
    for (const auto& band_span : band_spans(coarse, target, band_elements)) {
      const auto rows =
          linear_taps(coarse.size(2), height, band_span.r0, band_span.r1, coarse.scalar_type());
      const auto span = rows.last - rows.first + 1;
      // No later band reads the rows before this band's first: their
      // gradient is complete and may overwrite them.
      rows_done.settle_below(rows.first);
      const auto coarse_rows = coarse.narrow(2, rows.first, span).detach().requires_grad_(true);
      const auto band = make_band(coarse_rows, target, band_span, rows, others, ignore_index);
      const auto log_probs = torch::log_softmax(band.logits, 1);
      const auto nll = -log_probs.gather(1, band.labels.unsqueeze(1)).squeeze(1);
      auto local =
          nll.masked_fill(band.valid.logical_not(), 0).sum() / static_cast<double>(labelled);
      if (a.defined()) {
        const auto valid = band.valid.unsqueeze(1).to(log_probs.dtype());
        const auto one_hot =
            torch::zeros_like(log_probs).scatter_(1, band.labels.unsqueeze(1), 1.0);
        local = local + (log_probs.exp() * valid * (a * one_hot + b)).sum();
      }
      rows_done.add(rows.first, torch::autograd::grad({local}, {coarse_rows})[0]);
    }
    rows_done.settle_below(coarse.size(2));
    return {grad.mul_(grad_output[0]), {}, {}, {}, {}};
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

torch::Tensor upsampled_segmentation_loss(const torch::Tensor& coarse, const torch::Tensor& target,
                                          const UpsampledLossOptions& options) {
  const bool shapes_match = (coarse.dim() == 4 || coarse.dim() == 5) &&
                            target.dim() == coarse.dim() - 1 && coarse.size(0) == target.size(0);
  if (!shapes_match) {
    throw std::invalid_argument(
        "upsampled_segmentation_loss: logits must be [N, K, h, w] (or [N, K, d, h, w]) and "
        "labels [N, H, W] (or [N, D, H, W]) with the same N");
  }
  for (int64_t a = 1; a < target.dim(); ++a) {
    if (coarse.size(a + 1) > target.size(a)) {
      throw std::invalid_argument(
          "upsampled_segmentation_loss: the labels are smaller than the "
          "logits they should be upsampled to");
    }
  }
  return UpsampledLoss::apply(coarse, target, options.ignore_index, options.dice_weight,
                              options.band_elements);
}

}  // namespace revup
