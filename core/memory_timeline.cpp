#include "core/memory_timeline.h"

#include <atomic>

#include "core/memory_tracker.h"

namespace revup {
namespace {
// Backward may run on an autograd worker thread (CUDA), so the active recording
// is global rather than thread-local.
std::atomic<MemoryRecording*> g_active{nullptr};
}  // namespace

const char* phase_name(Phase phase) { return phase == Phase::kForward ? "forward" : "backward"; }

MemoryRecording::MemoryRecording(c10::Device device, MemoryEventSink sink)
    : device_(device), sink_(std::move(sink)), start_(std::chrono::steady_clock::now()) {
  MemoryTracker::reset_peak(device_);
  baseline_ = MemoryTracker::live_bytes(device_);
  previous_ = g_active.exchange(this);
}

MemoryRecording::~MemoryRecording() { g_active.store(previous_); }

std::vector<MemoryEvent> MemoryRecording::events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

void MemoryRecording::record(Phase phase, int stage, int block) {
  MemoryEvent event;
  event.phase = phase;
  event.stage = stage;
  event.block = block;
  event.live_bytes = MemoryTracker::live_bytes(device_);
  event.peak_bytes = MemoryTracker::peak_bytes(device_);
  event.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
  }
  if (sink_) sink_(event);
}

void MemoryTimeline::mark(Phase phase, int stage, int block) {
  if (MemoryRecording* active = g_active.load()) active->record(phase, stage, block);
}

bool MemoryTimeline::recording() { return g_active.load() != nullptr; }

nlohmann::json timeline_json(const std::vector<MemoryEvent>& events, std::int64_t baseline) {
  auto out = nlohmann::json::array();
  for (const auto& e : events) {
    out.push_back({{"phase", phase_name(e.phase)},
                   {"stage", e.stage},
                   {"block", e.block},
                   {"bytes", e.live_bytes - baseline},
                   {"peak_bytes", e.peak_bytes - baseline},
                   {"seconds", e.seconds}});
  }
  return out;
}

}  // namespace revup
