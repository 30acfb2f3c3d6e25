#pragma once
// Finds and loads plugins (io/plugin_api.h) and remembers what it loaded and
// what it refused, and why, for `revup-cli info`.
#include <string>
#include <vector>

#include "io/format_registry.h"

namespace revup {

struct PluginRecord {
  std::string path;
  bool loaded = false;
  std::string description;           // from the plugin, when it has one
  std::vector<std::string> formats;  // names it registered
  std::string reason;                // why it was refused
};

// Where plugins are looked for, in order: each entry of REVUP_PLUGIN_PATH
// (colon-separated; a folder or a library file), then <exe folder>/plugins,
// <exe folder> and <exe folder>/../lib/revup/plugins. In folders only files
// named revup-plugin-*.so or librevup-plugin-*.so are taken, so unrelated
// libraries next to the executable are never loaded.
std::vector<std::string> plugin_search_paths();

// A plugin's entry points as dlsym found them (null where missing).
struct PluginEntry {
  int (*abi_version)() = nullptr;
  void (*register_formats)(FormatRegistry&) = nullptr;
  const char* (*description)() = nullptr;
};

class PluginLoader {
 public:
  // Loads every plugin found on `search_paths` into `registry`. A library
  // whose file name was seen already is skipped (the first one wins).
  void load_all(FormatRegistry& registry, const std::vector<std::string>& search_paths);
  // Loads one library; the record says whether and why not.
  const PluginRecord& load(FormatRegistry& registry, const std::string& path);
  // What load does once the library is open: checks the ABI version, then
  // what the entry registers (into `registry` only when all of it is usable).
  // The fuzz harness calls it with entries of its own.
  const PluginRecord& load(FormatRegistry& registry, const std::string& path,
                           const PluginEntry& entry);
  const std::vector<PluginRecord>& records() const { return records_; }

 private:
  std::vector<PluginRecord> records_;
};

// The loader behind default_registry(); records() is what `info` lists.
PluginLoader& default_plugin_loader();
// Loads the default registry (and so the plugins) if not done yet.
const std::vector<PluginRecord>& loaded_plugins();

}  // namespace revup
