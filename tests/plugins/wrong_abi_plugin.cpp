// Built for a RevUp whose plugin ABI is far in the future: must be refused.
#include "io/plugin_api.h"

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION + 998; }
REVUP_PLUGIN_EXPORT void revup_register_formats(revup::FormatRegistry&) {}
