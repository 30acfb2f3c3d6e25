#pragma once
// Per-block memory samples: the data behind the paper's Figures 6 and 7.
//
// Models call MemoryTimeline::mark() at every block boundary, in forward and in
// backward. When no recording is active a mark costs one atomic load, so models
// can mark unconditionally.
#include <c10/core/Device.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace revup {

enum class Phase { kForward, kBackward };
const char* phase_name(Phase phase);

struct MemoryEvent {
  Phase phase = Phase::kForward;
  int stage = 0;                // index of the stage (0 = stem)
  int block = 0;                // index of the block inside its stage
  std::int64_t live_bytes = 0;  // allocator bytes live right after the block
  std::int64_t peak_bytes = 0;  // allocator peak since the recording began
  double seconds = 0.0;         // since the recording began
};

using MemoryEventSink = std::function<void(const MemoryEvent&)>;

// Records the events of one scope (typically one training step) on one device.
// Only one recording is active at a time; a new one replaces the old until it ends.
class MemoryRecording {
 public:
  explicit MemoryRecording(c10::Device device, MemoryEventSink sink = nullptr);
  ~MemoryRecording();
  MemoryRecording(const MemoryRecording&) = delete;
  MemoryRecording& operator=(const MemoryRecording&) = delete;

  std::vector<MemoryEvent> events() const;
  std::int64_t baseline_bytes() const { return baseline_; }

 private:
  friend class MemoryTimeline;
  void record(Phase phase, int stage, int block);

  c10::Device device_;
  MemoryEventSink sink_;
  std::int64_t baseline_ = 0;
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  std::vector<MemoryEvent> events_;
  MemoryRecording* previous_ = nullptr;
};

// Events as JSON: phase, stage, block, and bytes / peak_bytes above `baseline`
// (what was live before the step), seconds since the recording began.
nlohmann::json timeline_json(const std::vector<MemoryEvent>& events, std::int64_t baseline);

class MemoryTimeline {
 public:
  static void mark(Phase phase, int stage, int block);
  static bool recording();
};

}  // namespace revup
