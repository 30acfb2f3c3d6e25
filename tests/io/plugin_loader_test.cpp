#include "io/plugin_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "io/plugin_api.h"
#include "tests/io/test_files.h"

namespace revup {
namespace {

namespace fs = std::filesystem;

const std::string kDir = REVUP_TEST_PLUGIN_DIR;

const PluginRecord* record_for(const PluginLoader& loader, const std::string& file) {
  for (const auto& r : loader.records()) {
    if (fs::path(r.path).filename() == file) return &r;
  }
  return nullptr;
}

TEST(Plugins, ThirdPartyPluginIsFoundOnRevupPluginPathAndUsed) {
  ASSERT_TRUE(fs::exists(kDir + "/revup-plugin-fake.so")) << "test plugin not built in " << kDir;
  ::setenv("REVUP_PLUGIN_PATH", ("/nonexistent:" + kDir).c_str(), 1);
  const auto paths = plugin_search_paths();
  ::unsetenv("REVUP_PLUGIN_PATH");
  ASSERT_GE(paths.size(), 2u);
  EXPECT_EQ(paths[1], kDir);  // the environment comes first, in its order

  FormatRegistry registry;
  PluginLoader loader;
  loader.load_all(registry, paths);
  const auto* fake = record_for(loader, "revup-plugin-fake.so");
  ASSERT_NE(fake, nullptr);
  EXPECT_TRUE(fake->loaded) << fake->reason;
  EXPECT_EQ(fake->description, "fake test format");
  EXPECT_EQ(fake->formats, std::vector<std::string>{"fake"});

  const auto dir = testing::scratch_dir();
  const auto file = testing::write_file(dir + "/x.fake", "3 5 42");
  const auto image = read_image(registry, file);
  EXPECT_EQ(image.pixels.sizes(), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(image.pixels.max().item<int>(), 42);
  EXPECT_EQ(registry.format_for(file).origin, fake->path);
  write_image(registry, image, dir + "/y.fake");  // through the temporary folder
  EXPECT_EQ(read_image(registry, dir + "/y.fake").pixels.sizes(), image.pixels.sizes());
}

TEST(Plugins, RefusedPluginsSayWhy) {
  FormatRegistry registry;
  PluginLoader loader;
  loader.load_all(registry, {kDir});
  const auto* wrong = record_for(loader, "revup-plugin-wrong-abi.so");
  ASSERT_NE(wrong, nullptr);
  EXPECT_FALSE(wrong->loaded);
  EXPECT_NE(wrong->reason.find("wrong ABI version " + std::to_string(kPluginAbiVersion + 998)),
            std::string::npos)
      << wrong->reason;
  const auto* no_register = record_for(loader, "revup-plugin-no-register.so");
  ASSERT_NE(no_register, nullptr);
  EXPECT_FALSE(no_register->loaded);
  EXPECT_NE(no_register->reason.find("missing symbol revup_register_formats"), std::string::npos)
      << no_register->reason;
  const auto* garbage = record_for(loader, "revup-plugin-garbage.so");
  ASSERT_NE(garbage, nullptr);
  EXPECT_FALSE(garbage->loaded);
  EXPECT_NE(garbage->reason.find("dlopen failed"), std::string::npos) << garbage->reason;
  // Nothing from the refused ones got in.
  for (const auto& f : registry.formats()) EXPECT_EQ(f->name, "fake");
}

TEST(Plugins, FirstOfTwoSameNamedPluginsWins) {
  FormatRegistry registry;
  PluginLoader loader;
  loader.load_all(registry, {kDir, kDir + "/revup-plugin-fake.so"});
  size_t fakes = 0;
  for (const auto& r : loader.records()) fakes += r.path.find("fake") != std::string::npos;
  EXPECT_EQ(fakes, 1u);
}

TEST(Plugins, DefaultRegistryLoadsTheBuiltPlugins) {
  const auto& records = loaded_plugins();
  std::vector<std::string> names;
  for (const auto& r : records) {
    EXPECT_TRUE(r.loaded) << r.path << ": " << r.reason;
    names.push_back(fs::path(r.path).filename().string());
  }
  if (REVUP_TEST_HAVE_GDAL) {
    EXPECT_NE(std::find(names.begin(), names.end(), "revup-plugin-gdal.so"), names.end());
  }
  if (REVUP_TEST_HAVE_ITK) {
    EXPECT_NE(std::find(names.begin(), names.end(), "revup-plugin-itk.so"), names.end());
  }
}

}  // namespace
}  // namespace revup
