#pragma once
// The formats every build has: NumPy .npy, and with OpenCV PNG, JPEG, TIFF,
// BMP and WebP.
#include "io/format_registry.h"

namespace revup {

void register_builtin_formats(FormatRegistry& registry);
void register_numpy_format(FormatRegistry& registry);
// Does nothing in a build without OpenCV.
void register_opencv_formats(FormatRegistry& registry);
bool have_opencv_formats();

}  // namespace revup
