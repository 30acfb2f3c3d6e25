#pragma once
// A process killed while write_atomically (core/atomic_file.h) ran leaves its
// hidden temporary folder behind: the target itself is intact, but the folder
// would stay forever. Whoever next writes into that folder, or opens a run in
// it, removes what dead processes left.
#include <string>

namespace revup {

// Removes the temporary folders of writes whose process is gone; a live
// process's (another revup writing there now) is kept. Returns how many were
// removed. Never throws: a leftover that cannot be removed is left.
int remove_abandoned_writes(const std::string& folder);

}  // namespace revup
