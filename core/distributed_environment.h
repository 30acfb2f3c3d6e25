#pragma once
// Where this process stands among the ranks torchrun started: torchrun (and
// any launcher that sets the same variables) tells each process its rank,
// the world's size and where to meet through the environment. Without
// WORLD_SIZE (or with 1) a process trains alone, as it always has.
#include <functional>
#include <optional>
#include <string>

namespace revup {

struct DistributedEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // on this node: chooses the GPU with --device cuda
  int local_world_size = 1;
  std::string master_addr;  // where the rendezvous store listens
  int master_port = 0;
  // torchrun's agent already runs the store at master_addr:master_port (its
  // static rendezvous does); the workers then join it as clients, under the
  // prefix /worker/attempt_<restart_count>, as PyTorch's own workers do.
  bool agent_store = false;
  int restart_count = 0;

  // The key prefix in the agent's store ("" without one).
  std::string store_prefix() const;
  // "rank 1 of 2 (local rank 1 of 2, node of 127.0.0.1:29500)": for messages.
  std::string describe() const;

  using Lookup = std::function<const char*(const char*)>;
  // torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
  // MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE,
  // TORCHELASTIC_RESTART_COUNT), or nothing when WORLD_SIZE is unset or 1.
  // Throws std::runtime_error naming the variable when one is missing or
  // malformed (a rank outside the world, a port out of range).
  static std::optional<DistributedEnvironment> from_environment(const Lookup& lookup);
  static std::optional<DistributedEnvironment> from_environment();
};

// A TCP port on loopback that nothing listens on now, for a launcher's
// MASTER_PORT (another program may take it before the store does).
int free_loopback_port();

}  // namespace revup
