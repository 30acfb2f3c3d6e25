#pragma once
// Sums the gradients over the ranks while backward is still running, as
// PyTorch's DDP reducer does. MemSave's backward finishes block by block,
// last block first: the parameters go into buckets in the reverse of their
// registration order (the order backward reaches them), and a bucket is sent
// as soon as its last gradient has arrived, while the blocks before it are
// still being rebuilt. Buckets are sent in the same order on every rank
// (Gloo matches collectives by their order), so a bucket that is ready early
// waits for the ones before it.
#include <torch/torch.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

#include "core/data_parallel_group.h"

namespace revup {

class OverlappedGradientSum {
 public:
  // Hooks every parameter that requires grad; `bucket_bytes` is each bucket's
  // size (a parameter larger than that gets one of its own). Small buckets
  // start sending earlier; DDP's first bucket is 1 MiB.
  OverlappedGradientSum(DataParallelGroup& group, std::vector<torch::Tensor> parameters,
                        std::int64_t bucket_bytes = 1 << 20);
  ~OverlappedGradientSum();  // removes the hooks
  OverlappedGradientSum(const OverlappedGradientSum&) = delete;
  OverlappedGradientSum& operator=(const OverlappedGradientSum&) = delete;

  // The next backward's gradients, added to what .grad already holds (the
  // batches accumulated before), are sent as they arrive.
  void arm();
  // After backward, armed or not: sends what was not sent yet (a parameter
  // whose gradient never arrived counts with its .grad, or zeros), waits for
  // every bucket and writes the sums into .grad. Returns the seconds it
  // waited: the communication backward did not hide.
  double finish();

  size_t bucket_count() const { return buckets_.size(); }
  size_t buckets_sent() const { return next_to_send_; }  // in this backward, so far

 private:
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> members;  // indices into params_
    size_t waiting = 0;           // gradients not arrived in this backward
    std::function<void()> wait;   // set once sent
  };
  void start_backward();
  void on_gradient(size_t index, const torch::Tensor& grad);
  void send_ready_buckets();
  torch::Tensor slot(size_t index) const;

  DataParallelGroup& group_;
  std::vector<torch::Tensor> params_;
  std::vector<unsigned> hooks_;
  std::vector<size_t> bucket_of_;
  std::vector<std::int64_t> offset_of_;
  std::vector<bool> arrived_;
  std::vector<Bucket> buckets_;
  size_t next_to_send_ = 0;
  bool armed_ = false;
  std::exception_ptr error_;  // thrown in a hook; rethrown by finish()
};

}  // namespace revup
