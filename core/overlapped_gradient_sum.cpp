#include "core/overlapped_gradient_sum.h"

#include <chrono>
#include <stdexcept>
#include <string>

namespace revup {

OverlappedGradientSum::OverlappedGradientSum(DataParallelGroup& group,
                                             std::vector<torch::Tensor> parameters,
                                             std::int64_t bucket_bytes)
    : group_(group) {
  for (auto& p : parameters) {
    if (p.requires_grad()) params_.push_back(p);
  }
  bucket_of_.resize(params_.size());
  offset_of_.resize(params_.size());
  arrived_.assign(params_.size(), false);
  // Reverse order: the last parameters' gradients arrive first. A bucket
  // holds one dtype and device, up to bucket_bytes.
  std::int64_t bytes = 0, numel = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k];
    const auto size = static_cast<std::int64_t>(p.nbytes());
    const bool fits = !buckets_.empty() && bytes + size <= bucket_bytes &&
                      params_[buckets_.back().members.front()].scalar_type() == p.scalar_type() &&
                      params_[buckets_.back().members.front()].device() == p.device();
    if (!fits) {
      buckets_.emplace_back();
      bytes = numel = 0;
    }
    bucket_of_[k] = buckets_.size() - 1;
    offset_of_[k] = numel;
    buckets_.back().members.push_back(k);
    bytes += size;
    numel += p.numel();
  }
  for (auto& b : buckets_) {  // the last member ends the bucket
    const auto& last = params_[b.members.back()];
    b.flat = torch::zeros({offset_of_[b.members.back()] + last.numel()}, last.options());
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    hooks_.push_back(params_[k].register_hook([this, k](const torch::Tensor& grad) {
      if (armed_) on_gradient(k, grad);
    }));
  }
}

OverlappedGradientSum::~OverlappedGradientSum() {
  for (size_t k = 0; k < hooks_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

torch::Tensor OverlappedGradientSum::slot(size_t k) const {
  return buckets_[bucket_of_[k]]
      .flat.narrow(0, offset_of_[k], params_[k].numel())
      .view_as(params_[k]);
}

void OverlappedGradientSum::start_backward() {
  for (auto& b : buckets_) b.waiting = b.members.size();
  arrived_.assign(params_.size(), false);
  next_to_send_ = 0;
  error_ = nullptr;
}

void OverlappedGradientSum::arm() {
  start_backward();
  armed_ = true;
}

void OverlappedGradientSum::on_gradient(size_t k, const torch::Tensor& grad) {
  if (error_) return;
  try {
    torch::NoGradGuard no_grad;
    if (arrived_[k]) {
      // One accumulation per parameter per backward is autograd's contract;
      // a second one would have to join a bucket that may be on its way.
      throw std::logic_error("a parameter received two gradients in one backward");
    }
    arrived_[k] = true;
    // The hook runs before autograd adds `grad` to .grad: the sum of the
    // batches accumulated so far and this one.
    auto into = slot(k);
    const auto& held = params_[k].grad();
    if (held.defined()) {
      torch::add_out(into, held, grad);
    } else {
      into.copy_(grad);
    }
    if (--buckets_[bucket_of_[k]].waiting == 0) send_ready_buckets();
  } catch (...) {
    error_ = std::current_exception();
  }
}

void OverlappedGradientSum::send_ready_buckets() {
  while (next_to_send_ < buckets_.size() && buckets_[next_to_send_].waiting == 0) {
    auto& b = buckets_[next_to_send_++];
    b.wait = group_.start_sum(b.flat);
  }
}

double OverlappedGradientSum::finish() {
  const auto start = std::chrono::steady_clock::now();
  const bool was_armed = armed_;
  armed_ = false;
  if (error_) std::rethrow_exception(error_);
  torch::NoGradGuard no_grad;
  if (!was_armed) start_backward();
  // What backward did not reach (a rank without a batch in this step, a
  // parameter no batch used) is sent as it stands.
  for (size_t k = 0; k < params_.size(); ++k) {
    if (arrived_[k]) continue;
    const auto& held = params_[k].grad();
    if (held.defined()) {
      slot(k).copy_(held);
    } else {
      slot(k).zero_();
    }
    arrived_[k] = true;
    --buckets_[bucket_of_[k]].waiting;
  }
  send_ready_buckets();
  for (auto& b : buckets_) {
    auto wait = std::move(b.wait);
    b.wait = nullptr;
    wait();
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    auto& grad = params_[k].mutable_grad();
    if (grad.defined()) {
      grad.copy_(slot(k));
    } else {
      grad = slot(k).clone();
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace revup
