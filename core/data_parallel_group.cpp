#include "core/data_parallel_group.h"

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

#if defined(REVUP_HAVE_GLOO)
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_NCCL)  // the CUDA LibTorch 2.x build defines it
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace revup {

std::string data_parallel_backends() {
#if defined(USE_C10D_NCCL)
  return "gloo, nccl";
#elif defined(REVUP_HAVE_GLOO)
  return "gloo";
#else
  return "";
#endif
}

std::string data_parallel_unavailable() {
#if defined(REVUP_HAVE_GLOO)
  return "";
#else
  return "this build of RevUp has no data-parallel training: it was built without Gloo's headers "
         "(Debian: apt install libgloo-dev, then rebuild)";
#endif
}

#if defined(REVUP_HAVE_GLOO)

namespace {
// Our keys in the store, apart from the process group's own.
constexpr const char* kFailurePrefix = "revup/failed/";

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(sa, la));
    const bool more_b = static_cast<bool>(std::getline(sb, lb));
    if (!more_a && !more_b) return "";
    if (!more_a || !more_b || la != lb) {
      return "line " + std::to_string(line) + ": rank 0 has '" + (more_a ? la : "(end)") +
             "', this one '" + (more_b ? lb : "(end)") + "'";
    }
  }
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistributedEnvironment& env) {
  // PyTorch's own choice: the interface GLOO_SOCKET_IFNAME names, else the
  // address this host's name resolves to. A rendezvous on loopback stays on
  // loopback (the host name may resolve to an address nobody listens on).
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
}  // namespace

// What Gloo and NCCL have in common: LibTorch 2.x's c10d::Backend, 1.13's
// ProcessGroup.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> group;
  std::string backend;
  c10::Device device = torch::kCPU;  // where the collectives' tensors must live
  std::chrono::milliseconds timeout{};
};

namespace {
bool have_nccl() {
#if defined(USE_C10D_NCCL)
  return true;
#else
  return false;
#endif
}

// auto: NCCL for CUDA where this build has it, else Gloo.
std::string choose_backend(const std::string& wanted, const c10::Device& device) {
  if (wanted == "gloo") return "gloo";
  if (wanted == "nccl") {
    if (!have_nccl()) {
      throw std::runtime_error(
          "--backend nccl: this build has Gloo only (NCCL needs the CUDA LibTorch 2.x build)");
    }
    if (!device.is_cuda()) throw std::runtime_error("--backend nccl needs --device cuda");
    return "nccl";
  }
  if (wanted != "auto")
    throw std::runtime_error("--backend " + wanted + ": say auto, gloo or nccl");
  return device.is_cuda() && have_nccl() ? "nccl" : "gloo";
}
}  // namespace

DataParallelGroup::DataParallelGroup(DistributedEnvironment env, std::unique_ptr<Impl> impl)
    : env_(std::move(env)), impl_(std::move(impl)) {}

DataParallelGroup::~DataParallelGroup() = default;

std::shared_ptr<DataParallelGroup> DataParallelGroup::join(const DistributedEnvironment& env,
                                                           const c10::Device& device,
                                                           const DataParallelOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->timeout = options.timeout;
  impl->backend = choose_backend(options.backend, device);
  // Gloo reduces CPU tensors (CUDA ones through the host); NCCL CUDA ones.
  impl->device = impl->backend == "nccl" ? device : c10::Device(torch::kCPU);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(env.master_port);
    store_options.isServer = !env.agent_store && env.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(env.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = options.timeout;
    c10::intrusive_ptr<c10d::Store> store =
        c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    if (env.agent_store) store = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix(), store);
    impl->store = c10::make_intrusive<c10d::PrefixStore>("revup/", store);
    if (impl->backend == "gloo") {
      auto gloo = c10d::ProcessGroupGloo::Options::create();
      gloo->timeout = options.timeout;
      gloo->devices.push_back(gloo_device(env));
      impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
          c10::make_intrusive<c10d::PrefixStore>("gloo/", impl->store), env.rank, env.world_size,
          gloo);
    } else {
#if defined(USE_C10D_NCCL)
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = options.timeout;
      impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("nccl/", impl->store), env.rank, env.world_size,
          nccl);
#endif
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(env.describe() + ": could not join the other ranks within " +
                             std::to_string(options.timeout.count()) + " s: " + e.what());
  }
  auto group = std::shared_ptr<DataParallelGroup>(new DataParallelGroup(env, std::move(impl)));
  group->overlap_backward_ = options.overlap_backward;
  return group;
}

std::string DataParallelGroup::backend_name() const { return impl_->backend; }

std::string DataParallelGroup::reported_failures() const {
  std::string causes;
  for (int r = 0; r < env_.world_size; ++r) {
    if (r == env_.rank) continue;
    try {
      const std::string key = kFailurePrefix + std::to_string(r);
      if (!impl_->store->check({key})) continue;
      const auto bytes = impl_->store->get(key);
      causes +=
          "; rank " + std::to_string(r) + " failed: " + std::string(bytes.begin(), bytes.end());
    } catch (const std::exception&) {
      return "; the rendezvous store is gone too (rank 0 or torchrun stopped)";
    }
  }
  return causes.empty() ? "; no rank reported a cause (one was killed, ran out of memory, or its "
                          "node lost the network)"
                        : causes;
}

template <typename F>
void DataParallelGroup::collective(const char* what, F&& run) {
  try {
    auto work = run();
    if (work) work->wait(impl_->timeout);
  } catch (const std::exception& e) {
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    throw CollectiveFailure("rank " + std::to_string(env_.rank) + " of " +
                            std::to_string(env_.world_size) + ": " + what +
                            " with the other ranks failed (" + message + ")" + reported_failures());
  }
}

namespace {
// Tensors of one dtype and device as flat buffers of at most `bucket_bytes`
// (one tensor larger than that alone): `run` sends each buffer, then the
// values go back into the tensors.
void in_buckets(const std::vector<torch::Tensor>& tensors, std::int64_t bucket_bytes,
                const c10::Device& device,
                const std::function<void(std::vector<at::Tensor>&)>& run) {
  std::map<std::pair<int, std::string>, std::vector<torch::Tensor>> by_kind;
  for (const auto& t : tensors) {
    by_kind[{static_cast<int>(t.scalar_type()), t.device().str()}].push_back(t);
  }
  for (auto& [kind, list] : by_kind) {
    size_t begin = 0;
    while (begin < list.size()) {
      size_t end = begin;
      std::int64_t bytes = 0;
      while (
          end < list.size() &&
          (end == begin || bytes + static_cast<std::int64_t>(list[end].nbytes()) <= bucket_bytes)) {
        bytes += static_cast<std::int64_t>(list[end].nbytes());
        ++end;
      }
      std::vector<torch::Tensor> parts;
      for (size_t i = begin; i < end; ++i) parts.push_back(list[i].reshape({-1}));
      std::vector<at::Tensor> flat{torch::cat(parts).to(device)};
      run(flat);
      std::int64_t offset = 0;
      for (size_t i = begin; i < end; ++i) {
        const auto n = list[i].numel();
        list[i].copy_(flat[0].narrow(0, offset, n).view_as(list[i]));
        offset += n;
      }
      begin = end;
    }
  }
}
}  // namespace

void DataParallelGroup::all_reduce_sum(const std::vector<torch::Tensor>& tensors,
                                       std::int64_t bucket_bytes) {
  in_buckets(tensors, bucket_bytes, impl_->device, [&](std::vector<at::Tensor>& flat) {
    collective("summing gradients", [&] { return impl_->group->allreduce(flat); });
  });
}

std::function<void()> DataParallelGroup::start_sum(const torch::Tensor& flat) {
  if (flat.device() != impl_->device) {
    throw std::logic_error("start_sum: the bucket is on " + flat.device().str() + ", the " +
                           impl_->backend + " group reduces on " + impl_->device.str());
  }
  std::vector<at::Tensor> tensors{flat};
  decltype(impl_->group->allreduce(tensors)) work;
  collective("summing gradients", [&] {
    work = impl_->group->allreduce(tensors);
    return decltype(work)();  // nothing to wait for yet
  });
  return [this, work] { collective("summing gradients", [&] { return work; }); };
}

void DataParallelGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  in_buckets(tensors, 25 << 20, impl_->device, [&](std::vector<at::Tensor>& flat) {
    collective("receiving rank 0's weights and buffers",
               [&] { return impl_->group->broadcast(flat, options); });
  });
}

std::vector<std::int64_t> DataParallelGroup::all_gather(std::int64_t value) {
  const auto on = torch::TensorOptions().dtype(torch::kLong).device(impl_->device);
  std::vector<at::Tensor> input{torch::full({1}, value, on)};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < env_.world_size; ++r) output[0].push_back(torch::zeros({1}, on));
  collective("gathering a value", [&] { return impl_->group->allgather(output, input); });
  std::vector<std::int64_t> values;
  for (const auto& t : output[0]) values.push_back(t.item<std::int64_t>());
  return values;
}

void DataParallelGroup::barrier() {
  collective("waiting for every rank", [&] { return impl_->group->barrier(); });
}

void DataParallelGroup::require_same(const std::string& what, const std::string& text) {
  const auto hashes = all_gather(static_cast<std::int64_t>(std::hash<std::string>{}(text)));
  std::vector<int> differ;
  for (int r = 1; r < env_.world_size; ++r) {
    if (hashes[r] != hashes[0]) differ.push_back(r);
  }
  if (differ.empty()) return;
  const std::string key = "same/" + what;
  if (env_.rank == 0) impl_->store->set(key, std::vector<uint8_t>(text.begin(), text.end()));
  std::string ranks;
  for (int r : differ) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  std::string where;
  if (env_.rank != 0 && std::find(differ.begin(), differ.end(), env_.rank) != differ.end()) {
    try {
      const auto bytes = impl_->store->get(key);
      where = ": " + first_difference(std::string(bytes.begin(), bytes.end()), text);
    } catch (const std::exception&) {
    }
  }
  try {
    barrier();  // rank 0 holds the store: it waits until the others have read
  } catch (const std::exception&) {
  }
  throw std::runtime_error("rank " + std::to_string(env_.rank) + ": the ranks disagree on " + what +
                           " (rank " + ranks + " differ" + (differ.size() == 1 ? "s" : "") +
                           " from rank 0" + where +
                           "): every rank must train the same model on the same data");
}

void DataParallelGroup::report_failure(const std::string& cause) noexcept {
  try {
    impl_->store->set(kFailurePrefix + std::to_string(env_.rank),
                      std::vector<uint8_t>(cause.begin(), cause.end()));
  } catch (...) {
  }
}

#else  // no Gloo: join() refuses, so no group exists to call the rest

struct DataParallelGroup::Impl {};
DataParallelGroup::~DataParallelGroup() = default;
std::shared_ptr<DataParallelGroup> DataParallelGroup::join(const DistributedEnvironment& env,
                                                           const c10::Device&,
                                                           const DataParallelOptions&) {
  throw std::runtime_error(env.describe() + ": " + data_parallel_unavailable());
}
std::string DataParallelGroup::backend_name() const { return "none"; }
void DataParallelGroup::all_reduce_sum(const std::vector<torch::Tensor>&, std::int64_t) {}
std::function<void()> DataParallelGroup::start_sum(const torch::Tensor&) {
  return [] {};
}
void DataParallelGroup::broadcast(const std::vector<torch::Tensor>&, int) {}
std::vector<std::int64_t> DataParallelGroup::all_gather(std::int64_t value) { return {value}; }
void DataParallelGroup::barrier() {}
void DataParallelGroup::require_same(const std::string&, const std::string&) {}
void DataParallelGroup::report_failure(const std::string&) noexcept {}
#endif

}  // namespace revup
