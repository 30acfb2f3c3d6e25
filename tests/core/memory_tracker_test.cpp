#include "core/memory_tracker.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <memory>
#include <vector>

#include "core/memory_timeline.h"
#include "core/torch_compat.h"

namespace revup {
namespace {

const c10::Device kCpu(c10::DeviceType::CPU);

// The CUDA caching allocator's statistics as a test sets them, per device; a
// reset does what the allocator's resetPeakStats does (peaks to current).
class FakeCudaStats final : public DeviceMemoryStatsSource {
 public:
  std::map<int, DeviceMemoryStats> stats;
  std::map<int, std::int64_t> totals;
  std::vector<int> resets;

  DeviceMemoryStats read(int device) const override { return stats.at(device); }
  void reset_peak(int device) override {
    resets.push_back(device);
    auto& s = stats.at(device);
    s.allocated_peak = s.allocated;
    s.reserved_peak = s.reserved;
  }
  std::int64_t total_bytes(int device) const override { return totals.at(device); }
};

// Installs a fake for the test's lifetime and puts the real source back.
struct FakeCudaStatsInstalled {
  std::shared_ptr<FakeCudaStats> fake = std::make_shared<FakeCudaStats>();
  std::shared_ptr<DeviceMemoryStatsSource> previous = MemoryTracker::set_cuda_stats_source(fake);
  ~FakeCudaStatsInstalled() { MemoryTracker::set_cuda_stats_source(previous); }
};

TEST(MemoryTrackerCudaPath, ReadsTheCachingAllocatorsCountersOfTheDeviceAsked) {
  FakeCudaStatsInstalled installed;
  auto& fake = *installed.fake;
  fake.stats[0] = {100, 300, 1024, 2048};
  fake.stats[1] = {7, 9, 512, 640};
  fake.totals[1] = 141L << 30;
  const c10::Device cuda("cuda"), cuda1("cuda:1");
  EXPECT_EQ(MemoryTracker::live_bytes(cuda), 100);  // "cuda" without an index is device 0
  EXPECT_EQ(MemoryTracker::peak_bytes(cuda), 300);
  EXPECT_EQ(MemoryTracker::reserved_bytes(cuda), 1024);
  EXPECT_EQ(MemoryTracker::live_bytes(cuda1), 7);
  EXPECT_EQ(MemoryTracker::peak_bytes(cuda1), 9);
  EXPECT_EQ(MemoryTracker::reserved_bytes(cuda1), 512);
  EXPECT_EQ(MemoryTracker::total_bytes(cuda1), 141L << 30);
  EXPECT_THROW(MemoryTracker::live_bytes(c10::Device("cuda:2")), std::out_of_range);
}

TEST(MemoryTrackerCudaPath, ResetPeakResetsOnlyTheDeviceAsked) {
  FakeCudaStatsInstalled installed;
  auto& fake = *installed.fake;
  fake.stats[0] = {100, 300, 1024, 2048};
  fake.stats[1] = {7, 9, 512, 640};
  MemoryTracker::reset_peak(c10::Device("cuda:1"));
  EXPECT_EQ(fake.resets, std::vector<int>{1});
  EXPECT_EQ(MemoryTracker::peak_bytes(c10::Device("cuda:1")), 7);
  EXPECT_EQ(MemoryTracker::peak_bytes(c10::Device("cuda:0")), 300);
}

TEST(MemoryTrackerCudaPath, CpuCountersAreNotTheCudaOnes) {
  FakeCudaStatsInstalled installed;
  installed.fake->stats[0] = {1L << 40, 1L << 40, 1L << 40, 1L << 40};
  MemoryTracker::install_cpu_tracking();
  EXPECT_LT(MemoryTracker::live_bytes(kCpu), 1L << 40);
  EXPECT_LT(MemoryTracker::peak_bytes(kCpu), 1L << 40);
  MemoryTracker::reset_peak(kCpu);
  EXPECT_TRUE(installed.fake->resets.empty());
  EXPECT_GT(MemoryTracker::total_bytes(kCpu), 0);  // physical memory
}

// The per-block timeline on CUDA: a recording's baseline and events are the
// allocator's allocated bytes, its peak reset when the recording starts.
TEST(MemoryTrackerCudaPath, TimelineOnCudaRecordsTheAllocatorsBytes) {
  FakeCudaStatsInstalled installed;
  auto& fake = *installed.fake;
  fake.stats[0] = {1000, 5000, 4096, 8192};
  const c10::Device cuda("cuda:0");
  MemoryRecording recording(cuda, [](const MemoryEvent&) {});
  EXPECT_EQ(fake.resets, std::vector<int>{0});
  EXPECT_EQ(recording.baseline_bytes(), 1000);
  fake.stats[0].allocated = 1500;
  fake.stats[0].allocated_peak = 1800;
  MemoryTimeline::mark(Phase::kForward, 1, 2);
  ASSERT_EQ(recording.events().size(), 1u);
  EXPECT_EQ(recording.events()[0].live_bytes - recording.baseline_bytes(), 500);
  EXPECT_EQ(recording.events()[0].peak_bytes, 1800);
}

// Without the fake: a CPU-only LibTorch says a CUDA build is needed, a CUDA
// LibTorch without a GPU fails in LibTorch; neither answers 0 bytes.
TEST(MemoryTrackerCudaPath, WithoutAGpuTheRealSourceFailsLoudly) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is present: see RealCudaTensorIsCounted";
  if (!compat::cuda_stats_available()) {
    try {
      MemoryTracker::live_bytes(c10::Device("cuda"));
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("needs a CUDA build"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_ANY_THROW(MemoryTracker::live_bytes(c10::Device("cuda")));
  }
}

// The real caching allocator (the GPU check, tests/gpu/run.sh, runs this).
TEST(MemoryTrackerCudaPath, RealCudaTensorIsCounted) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device here; tests/gpu/run.sh runs this on the GPU machine";
  }
  const c10::Device cuda("cuda:0");
  MemoryTracker::reset_peak(cuda);
  const auto before = MemoryTracker::live_bytes(cuda);
  {
    auto t = torch::empty({1 << 20}, torch::TensorOptions().dtype(torch::kFloat32).device(cuda));
    EXPECT_GE(MemoryTracker::live_bytes(cuda) - before, 4 << 20);
    EXPECT_GE(MemoryTracker::reserved_bytes(cuda), MemoryTracker::live_bytes(cuda));
  }
  EXPECT_EQ(MemoryTracker::live_bytes(cuda), before);
  EXPECT_GE(MemoryTracker::peak_bytes(cuda) - before, 4 << 20);
  MemoryTracker::reset_peak(cuda);
  EXPECT_EQ(MemoryTracker::peak_bytes(cuda), before);
  EXPECT_GT(MemoryTracker::total_bytes(cuda), 1L << 30);
}

TEST(MemoryTracker, CountsKnownAllocationsExactly) {
  MemoryTracker::install_cpu_tracking();
  const auto before = MemoryTracker::live_bytes(kCpu);
  {
    auto a = torch::empty({1000}, torch::kFloat32);
    EXPECT_EQ(MemoryTracker::live_bytes(kCpu) - before, 4000);
    auto b = torch::empty({10, 10}, torch::kFloat64);
    EXPECT_EQ(MemoryTracker::live_bytes(kCpu) - before, 4800);
  }
  EXPECT_EQ(MemoryTracker::live_bytes(kCpu), before);
}

TEST(MemoryTracker, PeakFollowsTheHighestLiveValueUntilReset) {
  MemoryTracker::install_cpu_tracking();
  MemoryTracker::reset_peak(kCpu);
  const auto before = MemoryTracker::live_bytes(kCpu);
  { auto big = torch::empty({1 << 20}, torch::kUInt8); }
  EXPECT_EQ(MemoryTracker::peak_bytes(kCpu) - before, 1 << 20);
  MemoryTracker::reset_peak(kCpu);
  EXPECT_EQ(MemoryTracker::peak_bytes(kCpu), MemoryTracker::live_bytes(kCpu));
}

TEST(MemoryTracker, OneDnnConvolutionRunsOnTheCountingAllocator) {
  // oneDNN's raw_allocate() asserts context == data: this would abort otherwise.
  MemoryTracker::install_cpu_tracking();
  auto x = torch::randn({2, 8, 32, 32});
  auto w = torch::randn({8, 8, 3, 3});
  auto y = torch::conv2d(x, w, {}, 1, 1);
  EXPECT_EQ(y.sizes(), x.sizes());
}

TEST(MemoryTimeline, RecordsMarksOnlyWhileARecordingIsActive) {
  MemoryTracker::install_cpu_tracking();
  MemoryTimeline::mark(Phase::kForward, 1, 0);  // ignored: nothing records
  std::vector<MemoryEvent> seen;
  {
    MemoryRecording recording(kCpu, [&](const MemoryEvent& e) { seen.push_back(e); });
    auto t = torch::empty({256}, torch::kFloat32);
    MemoryTimeline::mark(Phase::kForward, 2, 3);
    ASSERT_EQ(recording.events().size(), 1u);
    EXPECT_EQ(recording.events()[0].stage, 2);
    EXPECT_EQ(recording.events()[0].block, 3);
    EXPECT_EQ(recording.events()[0].live_bytes - recording.baseline_bytes(), 1024);
  }
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_FALSE(MemoryTimeline::recording());
}

}  // namespace
}  // namespace revup
