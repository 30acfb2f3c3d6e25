#pragma once
// The ranks of one data-parallel training: PyTorch's c10d process group
// (Gloo) over the store torchrun's environment names. Collectives are
// blocking and fail, rather than wait forever, after the group's timeout;
// a failure names the rank that reported a cause (report_failure), so one
// rank's bad image or full disk reads the same on every rank.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/distributed_environment.h"

namespace revup {

struct DataParallelOptions {
  std::string backend = "auto";  // auto (NCCL for CUDA where built, else Gloo), gloo, nccl
  std::chrono::seconds timeout{300};
  // Gradients summed while backward runs (core/overlapped_gradient_sum.h);
  // off, they are summed after it, in one blocking call.
  bool overlap_backward = true;
};

// A collective that failed: another rank stopped, or the network did. The
// rank that sees it reports no cause of its own (the cause is elsewhere).
struct CollectiveFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Whether this build can train over several processes ("" if so, else why not).
std::string data_parallel_unavailable();
// The backends this build has: "gloo", or "gloo, nccl" (the CUDA LibTorch 2.x build).
std::string data_parallel_backends();

class DataParallelGroup {
 public:
  // Joins the other ranks; throws std::runtime_error naming this rank, the
  // rendezvous address and the cause when that fails or times out.
  static std::shared_ptr<DataParallelGroup> join(const DistributedEnvironment& env,
                                                 const c10::Device& device,
                                                 const DataParallelOptions& options);
  ~DataParallelGroup();

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  const DistributedEnvironment& environment() const { return env_; }
  std::string backend_name() const;
  bool overlaps_backward() const { return overlap_backward_; }

  // Sums over ranks, in place. Tensors of one dtype and device go as one
  // flat buffer per `bucket_bytes` (fewer, larger messages).
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors,
                      std::int64_t bucket_bytes = 25 << 20);
  // Starts summing `flat` (one contiguous tensor) over ranks, in place, and
  // returns at once; the returned function waits for it and fails as the
  // blocking calls do.
  std::function<void()> start_sum(const torch::Tensor& flat);
  // Rank `root`'s values into everyone's tensors, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  // Every rank's `value`, by rank.
  std::vector<std::int64_t> all_gather(std::int64_t value);
  void barrier();

  // Refuses to go on when the ranks disagree on `text` (a configuration):
  // every rank throws, naming the ranks that differ from rank 0 and the first
  // line where they do.
  void require_same(const std::string& what, const std::string& text);
  // Leaves `cause` in the store for the other ranks' errors to name.
  void report_failure(const std::string& cause) noexcept;

 private:
  struct Impl;
  DataParallelGroup(DistributedEnvironment env, std::unique_ptr<Impl> impl);
  // Runs one collective; a failure becomes an error naming the cause a rank
  // reported, or saying none did.
  template <typename F>
  void collective(const char* what, F&& run);
  std::string reported_failures() const;

  DistributedEnvironment env_;
  std::unique_ptr<Impl> impl_;
  bool overlap_backward_ = true;
};

}  // namespace revup
