#pragma once
// Scratch folders and error checks shared by the io tests.
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace revup::testing {

// A fresh, empty folder for the running test (removed and recreated).
std::string scratch_dir();
std::string write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

// Expects `f` to throw std::runtime_error whose message contains `path` and `problem`.
void expect_error(const std::function<void()>& f, const std::string& path,
                  const std::string& problem);

// Real data installed by ./revup.sh deps; "" (and a failure saying how to get
// it) when missing: CI installs everything, so a missing file is a failure.
std::string require_file(const std::vector<std::string>& candidates, const std::string& how);
std::string landsat_tif();
std::string labelme_voc();

}  // namespace revup::testing
