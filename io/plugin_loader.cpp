#include "io/plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "io/plugin_api.h"

namespace revup {

namespace fs = std::filesystem;

namespace {

bool looks_like_plugin(const fs::path& p) {
  const std::string name = p.filename().string();
  const bool prefix = name.rfind("revup-plugin-", 0) == 0 || name.rfind("librevup-plugin-", 0) == 0;
  return prefix && p.extension() == ".so";
}

fs::path executable_folder() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::vector<std::string> plugin_search_paths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("REVUP_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string entry;
    while (std::getline(ss, entry, ':')) {
      if (!entry.empty()) paths.push_back(entry);
    }
  }
  const auto exe = executable_folder();
  if (!exe.empty()) {
    paths.push_back((exe / "plugins").string());
    paths.push_back(exe.string());
    paths.push_back((exe.parent_path() / "lib" / "revup" / "plugins").string());
  }
  return paths;
}

void PluginLoader::load_all(FormatRegistry& registry,
                            const std::vector<std::string>& search_paths) {
  std::set<std::string> seen;
  for (const auto& entry : search_paths) {
    std::error_code ec;
    std::vector<fs::path> candidates;
    if (fs::is_directory(entry, ec)) {
      for (const auto& f : fs::directory_iterator(entry, ec)) {
        if (f.is_regular_file(ec) && looks_like_plugin(f.path())) candidates.push_back(f.path());
      }
      std::sort(candidates.begin(), candidates.end());
    } else if (fs::exists(entry, ec)) {
      candidates.push_back(entry);  // named explicitly: taken whatever its name
    }
    for (const auto& c : candidates) {
      const std::string name = c.filename().string();
      if (seen.count(name) != 0) continue;  // an earlier search path wins
      seen.insert(name);
      load(registry, c.string());
    }
  }
}

const PluginRecord& PluginLoader::load(FormatRegistry& registry, const std::string& path) {
  PluginRecord record;
  record.path = path;
  auto refuse = [&](std::string reason) -> const PluginRecord& {
    record.reason = std::move(reason);
    records_.push_back(record);
    return records_.back();
  };
  // RTLD_LOCAL: two plugins may use different builds of the same library.
  // Never closed: the formats it registered point into its code.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    return refuse(std::string("dlopen failed: ") + (err ? err : "unknown error"));
  }
  using VersionFn = int (*)();
  using RegisterFn = void (*)(FormatRegistry&);
  using DescriptionFn = const char* (*)();
  auto version = reinterpret_cast<VersionFn>(::dlsym(handle, "revup_plugin_abi_version"));
  if (version == nullptr) {
    ::dlclose(handle);
    return refuse("missing symbol revup_plugin_abi_version (not a RevUp plugin?)");
  }
  const int v = version();
  if (v != kPluginAbiVersion) {
    ::dlclose(handle);
    return refuse("wrong ABI version " + std::to_string(v) + ", this RevUp expects " +
                  std::to_string(kPluginAbiVersion) + " (rebuild the plugin)");
  }
  auto register_formats = reinterpret_cast<RegisterFn>(::dlsym(handle, "revup_register_formats"));
  if (register_formats == nullptr) {
    ::dlclose(handle);
    return refuse("missing symbol revup_register_formats");
  }
  if (auto describe =
          reinterpret_cast<DescriptionFn>(::dlsym(handle, "revup_plugin_description"))) {
    if (const char* d = describe()) record.description = d;
  }
  const size_t before = registry.formats().size();
  registry.set_current_origin(path);
  try {
    register_formats(registry);
  } catch (const std::exception& e) {
    registry.set_current_origin("built-in");
    return refuse(std::string("registration failed: ") + e.what());
  }
  registry.set_current_origin("built-in");
  for (size_t i = before; i < registry.formats().size(); ++i) {
    record.formats.push_back(registry.formats()[i]->name);
  }
  record.loaded = true;
  records_.push_back(record);
  return records_.back();
}

PluginLoader& default_plugin_loader() {
  static PluginLoader loader;
  return loader;
}

const std::vector<PluginRecord>& loaded_plugins() {
  default_registry();
  return default_plugin_loader().records();
}

}  // namespace revup
