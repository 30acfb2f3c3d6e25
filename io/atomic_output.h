#pragma once
// Writing through a temporary folder. Unlike core's write_atomically (one
// temporary file), the writer gets the final file name inside a hidden folder
// beside the target, so libraries that pick the format from the extension
// (.nii.gz) or write companion files (.mhd + .raw) work unchanged. Everything
// written is then renamed into place, the named file last.
#include <functional>
#include <string>

namespace revup {

// On failure the temporary folder is removed and std::runtime_error names
// `path` and the reason; an earlier file at `path` is left as it was.
void write_through_temporary_folder(const std::string& path,
                                    const std::function<void(const std::string& path)>& write);

}  // namespace revup
