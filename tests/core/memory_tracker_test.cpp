#include "core/memory_tracker.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/memory_timeline.h"

namespace revup {
namespace {

const c10::Device kCpu(c10::DeviceType::CPU);

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
