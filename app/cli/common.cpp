#include <torch/torch.h>

#include <stdexcept>

#include "app/cli/commands.h"
#include "core/atomic_file.h"

namespace revup::cli {

void write_json(const std::string& path, const nlohmann::json& j) {
  write_text_atomically(path, j.dump(2) + "\n");
}

}  // namespace revup::cli
