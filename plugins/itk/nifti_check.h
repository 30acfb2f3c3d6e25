#pragma once
// ITK's NIfTI reader zero-fills what a truncated file lacks instead of
// failing; this check reads the header and the whole (decompressed) stream
// and throws std::runtime_error naming the file when data is missing.
#include <string>

namespace revup {

void check_nifti_complete(const std::string& path);

}  // namespace revup
