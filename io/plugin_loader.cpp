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
  // RTLD_LOCAL: two plugins may use different builds of the same library.
  // Never closed once its registration ran: the formats it registered point
  // into its code.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    PluginRecord record;
    record.path = path;
    record.reason = std::string("dlopen failed: ") + (err ? err : "unknown error");
    records_.push_back(record);
    return records_.back();
  }
  PluginEntry entry;
  entry.abi_version = reinterpret_cast<int (*)()>(::dlsym(handle, "revup_plugin_abi_version"));
  entry.register_formats =
      reinterpret_cast<void (*)(FormatRegistry&)>(::dlsym(handle, "revup_register_formats"));
  entry.description =
      reinterpret_cast<const char* (*)()>(::dlsym(handle, "revup_plugin_description"));
  // Whether load() will call its registration (the version is a constant).
  const bool registers = entry.abi_version != nullptr && entry.register_formats != nullptr &&
                         entry.abi_version() == kPluginAbiVersion;
  const auto& record = load(registry, path, entry);
  if (!registers) ::dlclose(handle);
  return record;
}

namespace {

// Why a format a plugin registered cannot be used; "" when it can.
std::string unusable(const ImageFormat& f) {
  if (f.name.empty()) return "a format without a name";
  if (!f.read && !f.write && !f.write_mask && !f.info && !f.read_window) {
    return "format '" + f.name + "' neither reads nor writes";
  }
  for (const auto& e : f.extensions) {
    if (e.size() < 2 || e[0] != '.') {
      return "format '" + f.name + "': extension '" + e + "' (expected a dot and a name: .tif)";
    }
  }
  if (f.extensions.empty() && !f.reads_folders) return "format '" + f.name + "' has no extension";
  return "";
}

}  // namespace

const PluginRecord& PluginLoader::load(FormatRegistry& registry, const std::string& path,
                                       const PluginEntry& entry) {
  PluginRecord record;
  record.path = path;
  auto refuse = [&](std::string reason) -> const PluginRecord& {
    record.reason = std::move(reason);
    records_.push_back(record);
    return records_.back();
  };
  if (entry.abi_version == nullptr) {
    return refuse("missing symbol revup_plugin_abi_version (not a RevUp plugin?)");
  }
  const int v = entry.abi_version();
  if (v != kPluginAbiVersion) {
    return refuse("wrong ABI version " + std::to_string(v) + ", this RevUp expects " +
                  std::to_string(kPluginAbiVersion) + " (rebuild the plugin)");
  }
  if (entry.register_formats == nullptr) return refuse("missing symbol revup_register_formats");
  if (entry.description != nullptr) {
    if (const char* d = entry.description()) record.description = d;
  }
  // Registered into a registry of its own first: a plugin that fails half
  // way, or registers a format nothing could use, adds nothing.
  FormatRegistry staged;
  try {
    entry.register_formats(staged);
  } catch (const std::exception& e) {
    return refuse(std::string("registration failed: ") + e.what());
  } catch (...) {
    return refuse("registration failed: it threw something that is not a std::exception");
  }
  for (const auto& f : staged.formats()) {
    if (auto why = unusable(*f); !why.empty()) return refuse("registration failed: " + why);
  }
  registry.set_current_origin(path);
  for (const auto& f : staged.formats()) {
    registry.add(*f);
    record.formats.push_back(f->name);
  }
  registry.set_current_origin("built-in");
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
