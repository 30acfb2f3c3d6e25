// Has the version but forgot the registration entry point: must be refused.
#include "io/plugin_api.h"

REVUP_PLUGIN_EXPORT int revup_plugin_abi_version() { return REVUP_PLUGIN_ABI_VERSION; }
