// MemSave's backward finishes block by block; the gradient sum of a
// data-parallel step must start while earlier blocks are still being rebuilt
// (issue 18). One rank is enough to see when buckets leave.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../test_util.h"
#include "core/data_parallel_group.h"
#include "core/overlapped_gradient_sum.h"
#include "models/network.h"

namespace revup {
namespace {

#if defined(REVUP_HAVE_GLOO)

std::shared_ptr<DataParallelGroup> group_of_one() {
  DistributedEnvironment env;
  env.master_addr = "127.0.0.1";
  env.master_port = free_loopback_port();
  DataParallelOptions options;
  options.timeout = std::chrono::seconds(60);
  return DataParallelGroup::join(env, torch::kCPU, options);
}

TEST(MemSaveOverlap, BucketsLeaveBeforeBackwardReachesTheFirstBlocks) {
  torch::manual_seed(31);
  Network net(testing::small_cifar("revup-memsave", 20));
  testing::perturb(*net);
  const auto params = net->parameters();
  // The first parameter's gradient arrives last: when it does, the later
  // blocks' buckets must already be on their way. (This hook is registered
  // before the sum's own, so it runs first.)
  size_t sent_when_first_arrived = 0;
  std::unique_ptr<OverlappedGradientSum> overlapped;
  params.front().register_hook(
      [&](const torch::Tensor&) { sent_when_first_arrived = overlapped->buckets_sent(); });
  auto group = group_of_one();
  overlapped = std::make_unique<OverlappedGradientSum>(*group, params, /*bucket_bytes=*/4096);
  ASSERT_GE(overlapped->bucket_count(), 4u);

  const auto x = torch::randn({2, 3, 16, 16});
  const auto target = torch::tensor({1, 4});
  net->zero_grad();
  overlapped->arm();
  torch::nn::functional::cross_entropy(net->forward(x), target).backward();
  EXPECT_GT(sent_when_first_arrived, 0u) << "no bucket left during backward";
  EXPECT_EQ(overlapped->buckets_sent(), overlapped->bucket_count());
  std::vector<torch::Tensor> own;
  for (const auto& p : params) own.push_back(p.grad().clone());
  overlapped->finish();  // one rank: the sum is its own gradient
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i].grad(), own[i])) << "parameter " << i;
  }
}

#else
TEST(MemSaveOverlap, NotInThisBuild) { GTEST_SKIP() << data_parallel_unavailable(); }
#endif

}  // namespace
}  // namespace revup
