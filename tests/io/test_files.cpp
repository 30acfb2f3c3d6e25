#include "tests/io/test_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace revup::testing {

namespace fs = std::filesystem;

std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() / "revup_io_tests" /
                       (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_error(const std::function<void()>& f, const std::string& path,
                  const std::string& problem) {
  try {
    f();
    ADD_FAILURE() << "no error for " << path << " (expected: " << problem << ")";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << "does not name " << path << ": " << what;
    EXPECT_NE(what.find(problem), std::string::npos)
        << "does not say '" << problem << "': " << what;
  }
}

std::string require_file(const std::vector<std::string>& candidates, const std::string& how) {
  for (const auto& c : candidates) {
    if (fs::exists(c)) return c;
  }
  std::string tried;
  for (const auto& c : candidates) tried += "\n  " + c;
  ADD_FAILURE() << "test data missing, tried:" << tried << "\n" << how;
  return "";
}

std::string landsat_tif() {
  std::vector<std::string> c;
  if (const char* env = std::getenv("REVUP_TEST_L7_ETMS")) c.push_back(env);
  c.push_back(std::string(REVUP_TEST_DATA_DIR) + "/L7_ETMs.tif");
  c.push_back("/usr/lib/R/site-library/stars/tif/L7_ETMs.tif");
  return require_file(c, "run ./revup.sh deps (extracts it from Debian's r-cran-stars)");
}

std::string labelme_voc() {
  return require_file(
      {"/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_dataset_voc"},
      "install the Debian package labelme-examples (./revup.sh deps)");
}

}  // namespace revup::testing
