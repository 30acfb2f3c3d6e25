#pragma once
// What a RevUp plugin is: a shared library exporting two C functions,
//
//   REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }
//   REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry& registry) { ... }
//
// and optionally `const char* revup_plugin_description()`. A plugin is built
// against these headers with the same compiler and LibTorch as the host and
// links no RevUp library: it only uses header-only types (Image, ClassTable,
// ImageFormat) and calls FormatRegistry::add, which is virtual.
//
// Bump the version whenever Image, ImageInfo, Window, ClassTable, ImageFormat
// or FormatRegistry change their layout: the loader refuses other versions.
// 2: Image::warnings.
#include "io/format_registry.h"

#define REVUP_PLUGIN_ABI_VERSION 2

#define REVUP_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace revup {
constexpr int kPluginAbiVersion = REVUP_PLUGIN_ABI_VERSION;
}  // namespace revup
