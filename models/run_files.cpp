#include "models/run_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace revup {
namespace fs = std::filesystem;

nlohmann::json read_run_config(const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) throw std::runtime_error(run_dir + ": run folder not found");
  const auto config_path = (fs::path(run_dir) / "config.json").string();
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error(config_path + ": missing (not a RevUp run folder?)");
  try {
    nlohmann::json j;
    in >> j;
    return j;
  } catch (const std::exception& e) {
    throw std::runtime_error(config_path + ": not valid JSON (" + e.what() + ")");
  }
}

nlohmann::json read_run_metrics(const std::string& run_dir) {
  auto rows = nlohmann::json::array();
  std::ifstream in(fs::path(run_dir) / "metrics.csv");
  std::string line;
  if (!std::getline(in, line)) return rows;
  std::vector<std::string> columns;
  std::stringstream header(line);
  for (std::string c; std::getline(header, c, ',');) columns.push_back(c);
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    auto row = nlohmann::json::object();
    size_t i = 0;
    for (std::string cell; std::getline(cells, cell, ',') && i < columns.size(); ++i) {
      if (cell.empty()) continue;
      try {
        size_t used = 0;
        const double v = std::stod(cell, &used);
        row[columns[i]] = used == cell.size() ? nlohmann::json(v) : nlohmann::json(cell);
      } catch (const std::exception&) {
        row[columns[i]] = cell;  // "nan" parses; anything else is kept as written
      }
    }
    rows.push_back(row);
  }
  return rows;
}

void load_model_weights(torch::nn::Module& module, const std::string& checkpoint_path) {
  if (!fs::exists(checkpoint_path)) throw std::runtime_error(checkpoint_path + ": missing");
  try {
    torch::serialize::InputArchive archive, model;
    archive.load_from(checkpoint_path);
    archive.read("model", model);
    module.load(model);
  } catch (const c10::Error& e) {
    throw std::runtime_error(checkpoint_path + ": unreadable checkpoint (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
}

std::string run_checkpoint_path(const std::string& run_dir, const std::string& which) {
  if (which != "best" && which != "last") {
    throw std::invalid_argument("--checkpoint must be best or last, got '" + which + "'");
  }
  const auto best = (fs::path(run_dir) / "best.pt").string();
  const auto last = (fs::path(run_dir) / "last.pt").string();
  if (which == "best" && fs::exists(best)) return best;
  if (!fs::exists(last))
    throw std::runtime_error(last + ": missing (the run never finished an epoch)");
  return last;
}

}  // namespace revup
