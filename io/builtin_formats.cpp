#include "io/builtin_formats.h"

namespace revup {

void register_builtin_formats(FormatRegistry& registry) {
  register_numpy_format(registry);
  register_opencv_formats(registry);
}

#ifndef REVUP_IO_OPENCV
void register_opencv_formats(FormatRegistry&) {}
bool have_opencv_formats() { return false; }
#endif

}  // namespace revup
