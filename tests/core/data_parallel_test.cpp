// Data-parallel training through c10d's Gloo, with the ranks as threads of
// this process on loopback (Gloo does not mind): the collectives, the errors
// a rank gets when another stops or disagrees, and the equality that defines
// data parallelism here: N ranks train exactly as one process accumulating N
// batches per step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/data_parallel_group.h"
#include "core/distributed_environment.h"
#include "core/overlapped_gradient_sum.h"
#include "core/spectral_norm.h"
#include "core/trainer.h"

namespace revup {
namespace {

using Variables = std::map<std::string, std::string>;

std::optional<DistributedEnvironment> parse(const Variables& vars) {
  return DistributedEnvironment::from_environment([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(DistributedEnvironment, AloneWithoutTorchrunsVariables) {
  EXPECT_FALSE(parse({}).has_value());
  EXPECT_FALSE(parse({{"WORLD_SIZE", "1"}, {"RANK", "0"}}).has_value());
}

TEST(DistributedEnvironment, ReadsWhatTorchrunSets) {
  const auto env = parse({{"WORLD_SIZE", "4"},
                          {"RANK", "3"},
                          {"LOCAL_RANK", "1"},
                          {"LOCAL_WORLD_SIZE", "2"},
                          {"MASTER_ADDR", "10.0.0.1"},
                          {"MASTER_PORT", "29500"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                          {"TORCHELASTIC_RESTART_COUNT", "2"}});
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "10.0.0.1");
  EXPECT_EQ(env->master_port, 29500);
  EXPECT_TRUE(env->agent_store);
  EXPECT_EQ(env->store_prefix(), "/worker/attempt_2");
  const auto own = parse({{"WORLD_SIZE", "2"},
                          {"RANK", "0"},
                          {"MASTER_ADDR", "h"},
                          {"MASTER_PORT", "1"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "False"}});
  EXPECT_FALSE(own->agent_store);
  EXPECT_EQ(own->store_prefix(), "");
}

TEST(DistributedEnvironment, NamesTheVariableThatIsWrong) {
  const Variables base = {
      {"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "29500"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto vars = base;
    if (v.empty()) {
      vars.erase(k);
    } else {
      vars[k] = v;
    }
    return error_of([&] { parse(vars); });
  };
  EXPECT_NE(with("RANK", "2").find("RANK=2: expected a whole number from 0 to 1"),
            std::string::npos);
  EXPECT_NE(with("RANK", "").find("RANK is not set"), std::string::npos);
  EXPECT_NE(with("MASTER_PORT", "70000").find("MASTER_PORT=70000"), std::string::npos);
  EXPECT_NE(with("MASTER_ADDR", "").find("MASTER_ADDR is not set"), std::string::npos);
  EXPECT_NE(with("WORLD_SIZE", "two").find("WORLD_SIZE=two"), std::string::npos);
}

#if defined(REVUP_HAVE_GLOO)

// Runs body(rank, group) on `ranks` threads joined into one group; rethrows
// the first failure. `errors` (if given) collects each rank's error instead.
void on_ranks(int ranks, const std::function<void(int, DataParallelGroup&)>& body,
              std::vector<std::string>* errors = nullptr, int timeout_s = 60, bool overlap = true) {
  const int port = free_loopback_port();
  std::vector<std::exception_ptr> failures(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      try {
        DistributedEnvironment env;
        env.rank = r;
        env.world_size = env.local_world_size = ranks;
        env.local_rank = r;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        DataParallelOptions options;
        options.timeout = std::chrono::seconds(timeout_s);
        options.overlap_backward = overlap;
        auto group = DataParallelGroup::join(env, torch::kCPU, options);
        body(r, *group);
      } catch (...) {
        failures[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < ranks; ++r) {
    if (!failures[r]) continue;
    if (!errors) std::rethrow_exception(failures[r]);
    try {
      std::rethrow_exception(failures[r]);
    } catch (const std::exception& e) {
      (*errors)[r] = e.what();
    }
  }
}

TEST(DataParallelGroup, SumsBroadcastsAndGathers) {
  on_ranks(2, [](int rank, DataParallelGroup& group) {
    EXPECT_EQ(group.rank(), rank);
    EXPECT_EQ(group.size(), 2);
    // Floats and int64s, in several buckets (the 64-byte bucket holds 16 floats).
    auto a = torch::full({3, 5}, rank + 1.0f);
    auto b = torch::arange(20, torch::kFloat) * (rank + 1);
    auto c = torch::full({2}, static_cast<int64_t>(10 * (rank + 1)), torch::kLong);
    group.all_reduce_sum({a, b, c}, /*bucket_bytes=*/64);
    EXPECT_TRUE(torch::equal(a, torch::full({3, 5}, 3.0f)));
    EXPECT_TRUE(torch::equal(b, torch::arange(20, torch::kFloat) * 3));
    EXPECT_TRUE(torch::equal(c, torch::full({2}, int64_t{30}, torch::kLong)));
    auto w = torch::full({4}, rank == 0 ? 7.0f : -1.0f);
    group.broadcast({w});
    EXPECT_TRUE(torch::equal(w, torch::full({4}, 7.0f)));
    EXPECT_EQ(group.all_gather(100 + rank), (std::vector<int64_t>{100, 101}));
    group.require_same("the configuration", "a\nb\n");
  });
}

TEST(DataParallelGroup, RefusesRanksThatDisagreeAndSaysWhere) {
  std::vector<std::string> errors(2);
  on_ranks(
      2,
      [](int rank, DataParallelGroup& group) {
        group.require_same("the run's configuration",
                           rank == 0 ? "{\n \"classes\": 3\n}" : "{\n \"classes\": 4\n}");
      },
      &errors);
  for (const auto& e : errors) {
    EXPECT_NE(e.find("the ranks disagree on the run's configuration (rank 1 differs from rank 0"),
              std::string::npos)
        << e;
  }
  EXPECT_NE(errors[1].find("line 2: rank 0 has ' \"classes\": 3', this one ' \"classes\": 4'"),
            std::string::npos)
      << errors[1];
}

TEST(DataParallelGroup, ARankThatStopsIsNamedWithItsCause) {
  std::vector<std::string> errors(2);
  const auto start = std::chrono::steady_clock::now();
  on_ranks(
      2,
      [](int rank, DataParallelGroup& group) {
        if (rank == 1) {
          group.report_failure("/data/tile_17.tif: truncated TIFF");
          return;  // its group closes: its peer's next collective fails
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto t = torch::ones({8});
        group.all_reduce_sum({t});
      },
      &errors, /*timeout_s=*/20);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(errors[1], "");
  EXPECT_NE(errors[0].find("rank 0 of 2: summing gradients with the other ranks failed"),
            std::string::npos)
      << errors[0];
  EXPECT_NE(errors[0].find("rank 1 failed: /data/tile_17.tif: truncated TIFF"), std::string::npos)
      << errors[0];
  EXPECT_LT(seconds, 20.0) << "the collective waited for its whole timeout";
}

// Two classes from the mean of a residual spectrally normalized conv: small,
// but with a power-iteration probe and a Fixup-like scalar.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl() {
    conv = register_module("conv", SpectralNormConv(2, 2, 3));
    scale = register_parameter("scale", torch::ones({1}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto y = x + scale * torch::conv2d(x, conv->normalized_weight(), {}, 1, 1);
    return y.mean({2, 3});
  }
  SpectralNormConv conv{nullptr};
  torch::Tensor scale;
};
TORCH_MODULE(TinyNet);

class NoiseDataset : public Dataset {
 public:
  size_t size() const override { return 7; }  // odd: the last step has one image
  Example get(size_t i) const override {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(i) + 11);
    return {torch::randn({2, 6, 6}, gen), torch::tensor(static_cast<int64_t>(i % 2))};
  }
};

// Threads share LibTorch's generator: seed and draw under one lock.
TinyNet make_net(uint64_t seed) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  torch::manual_seed(seed);
  return TinyNet();
}

// Rank r starts from seed 100 + r; rank 0's weights (seed 100) reach every
// rank before the first step, and are where the process alone starts.
std::vector<torch::Tensor> train_tiny(int accumulation, std::shared_ptr<DataParallelGroup> group) {
  auto net = make_net(group ? 100 + group->rank() : 100);
  TrainableModel model{net.ptr(),
                       [net](const torch::Tensor& x) mutable { return net(x); },
                       net->conv->parameters(),
                       {net->scale}};
  TrainerOptions options;
  options.epochs = 2;
  options.batch_size = 1;
  options.lr = 0.1;
  options.accumulation_steps = accumulation;
  options.group = std::move(group);
  Trainer trainer(
      model,
      [](const torch::Tensor& out, const torch::Tensor& target) {
        return torch::nn::functional::cross_entropy(out, target);
      },
      options);
  trainer.fit(NoiseDataset());
  std::vector<torch::Tensor> state;
  for (const auto& p : net->parameters()) state.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) state.push_back(b.detach().clone());
  return state;
}

void expect_two_ranks_equal_one_process_accumulating_two(bool overlap) {
  const auto alone = train_tiny(2, nullptr);
  std::vector<std::vector<torch::Tensor>> ranks(2);
  on_ranks(
      2,
      [&](int rank, DataParallelGroup& group) {
        // The trainer needs the group as a shared_ptr it does not own here.
        ranks[rank] = train_tiny(1, std::shared_ptr<DataParallelGroup>(&group, [](auto*) {}));
      },
      nullptr, 60, overlap);
  ASSERT_EQ(ranks[0].size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_TRUE(torch::equal(ranks[0][i], ranks[1][i])) << "tensor " << i << " differs by rank";
    const double rel =
        ((ranks[0][i] - alone[i]).abs().max() / alone[i].abs().max().clamp_min(1e-12))
            .item<double>();
    EXPECT_LE(rel, 1e-6) << "tensor " << i;
  }
  // Training moved the weights (the comparison is not of two starting points).
  EXPECT_FALSE(torch::equal(alone[0], make_net(100)->parameters()[0]));
}

TEST(DataParallelTraining, TwoRanksEqualOneProcessAccumulatingTwo) {
  expect_two_ranks_equal_one_process_accumulating_two(/*overlap=*/true);
}

TEST(DataParallelTraining, TwoRanksEqualOneProcessWithoutOverlap) {
  expect_two_ranks_equal_one_process_accumulating_two(/*overlap=*/false);
}

// Four layers of 16x16 weights (1 KiB each, plus bias): 1100-byte buckets
// hold one weight or bias and its neighbour at most, so several buckets.
torch::nn::Sequential make_chain() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  torch::manual_seed(5);
  torch::nn::Sequential chain;
  for (int i = 0; i < 4; ++i) chain->push_back(torch::nn::Linear(16, 16));
  return chain;
}

torch::Tensor chain_loss(torch::nn::Sequential& chain, int rank, int batch) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(100 * rank + batch));
  return chain->forward(torch::randn({3, 16}, gen)).pow(2).sum();
}

TEST(OverlappedGradientSum, SendsBucketsDuringBackwardAndSumsExactly) {
  on_ranks(2, [](int rank, DataParallelGroup& group) {
    auto chain = make_chain();
    auto reference = make_chain();
    OverlappedGradientSum overlapped(group, chain->parameters(), /*bucket_bytes=*/1100);
    EXPECT_GE(overlapped.bucket_count(), 4u);
    // Two batches accumulated, the second one's backward armed.
    chain_loss(chain, rank, 0).backward();
    overlapped.arm();
    chain_loss(chain, rank, 1).backward();
    // Every gradient arrived during backward: every bucket left before finish.
    EXPECT_EQ(overlapped.buckets_sent(), overlapped.bucket_count());
    overlapped.finish();
    chain_loss(reference, rank, 0).backward();
    chain_loss(reference, rank, 1).backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : reference->parameters()) grads.push_back(p.grad());
    group.all_reduce_sum(grads);
    const auto got = chain->parameters();
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(torch::equal(got[i].grad(), grads[i])) << "parameter " << i;
    }
  });
}

TEST(OverlappedGradientSum, ARankWithoutABatchSendsWhatItHolds) {
  on_ranks(2, [](int rank, DataParallelGroup& group) {
    auto chain = make_chain();
    OverlappedGradientSum overlapped(group, chain->parameters(), 1100);
    // Rank 1 has no batch in this step: no backward, nothing armed.
    if (rank == 0) {
      overlapped.arm();
      chain_loss(chain, 0, 0).backward();
    }
    overlapped.finish();
    auto alone = make_chain();
    chain_loss(alone, 0, 0).backward();
    const auto got = chain->parameters();
    const auto want = alone->parameters();
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(torch::equal(got[i].grad(), want[i].grad())) << "parameter " << i;
    }
  });
}

#else
TEST(DataParallelGroup, NotInThisBuild) { GTEST_SKIP() << data_parallel_unavailable(); }
#endif

}  // namespace
}  // namespace revup
