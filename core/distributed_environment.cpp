#include "core/distributed_environment.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace revup {
namespace {

int integer(const DistributedEnvironment::Lookup& lookup, const char* name,
            std::optional<int> fallback, int min, int max) {
  const char* text = lookup(name);
  if (text == nullptr || *text == '\0') {
    if (fallback) return *fallback;
    throw std::runtime_error(std::string(name) +
                             " is not set: a distributed run needs torchrun's environment "
                             "(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)");
  }
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    throw std::runtime_error(std::string(name) + "=" + text + ": expected a whole number from " +
                             std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(value);
}

}  // namespace

std::string DistributedEnvironment::store_prefix() const {
  return agent_store ? "/worker/attempt_" + std::to_string(restart_count) : "";
}

std::string DistributedEnvironment::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local rank " +
         std::to_string(local_rank) + " of " + std::to_string(local_world_size) +
         ", rendezvous at " + master_addr + ":" + std::to_string(master_port) + ")";
}

std::optional<DistributedEnvironment> DistributedEnvironment::from_environment(
    const Lookup& lookup) {
  constexpr int kMaxRanks = 1 << 20;
  const int world = integer(lookup, "WORLD_SIZE", 1, 1, kMaxRanks);
  if (world == 1) return std::nullopt;
  DistributedEnvironment env;
  env.world_size = world;
  env.rank = integer(lookup, "RANK", std::nullopt, 0, world - 1);
  env.local_world_size = integer(lookup, "LOCAL_WORLD_SIZE", world, 1, world);
  env.local_rank = integer(lookup, "LOCAL_RANK", env.rank, 0, env.local_world_size - 1);
  const char* addr = lookup("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    throw std::runtime_error("MASTER_ADDR is not set: WORLD_SIZE=" + std::to_string(world) +
                             " asks for a distributed run, which needs torchrun's environment");
  }
  env.master_addr = addr;
  env.master_port = integer(lookup, "MASTER_PORT", std::nullopt, 1, 65535);
  const char* agent = lookup("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent != nullptr && (std::string(agent) == "True" ||
                                         std::string(agent) == "1" || std::string(agent) == "true");
  env.restart_count = integer(lookup, "TORCHELASTIC_RESTART_COUNT", 0, 0, kMaxRanks);
  return env;
}

std::optional<DistributedEnvironment> DistributedEnvironment::from_environment() {
  return from_environment([](const char* name) { return std::getenv(name); });
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("could not open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool found = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!found) throw std::runtime_error("no free TCP port on loopback");
  return ntohs(addr.sin_port);
}

}  // namespace revup
