#pragma once
// Where a workflow writes, checked before the work starts, so that a typo
// costs no training, prediction or export time.
#include <string>

namespace revup {

// A file's folder must exist and the path must not be a folder; with
// `may_create` (a run folder) the path must be a folder or not exist yet.
// Throws std::runtime_error naming the path.
void check_output_folder(const std::string& path, bool may_create = false);

}  // namespace revup
