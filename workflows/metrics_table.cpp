#include "workflows/metrics_table.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace revup {
namespace {

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

std::optional<double> number(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(cell, &used);
    if (used == cell.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// JSON holds UTF-8 only: bytes of a corrupt file that are not become U+FFFD
// here, not a type error where the JSON is written (export's model card).
std::string utf8(const std::string& text) {
  const auto replaced =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(replaced).get<std::string>();
}

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  std::ostringstream out;
  out.precision(8);
  out << v;
  return out.str();
}

}  // namespace

MetricsTable MetricsTable::read(const std::string& path) {
  MetricsTable table;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return table;
  table.columns_ = split_cells(line);
  while (std::getline(in, line)) {
    if (!line.empty()) table.rows_.push_back(split_cells(line));
  }
  return table;
}

void MetricsTable::append(int epoch, const std::map<std::string, double>& values) {
  auto row = values;
  row["epoch"] = epoch;
  if (columns_.empty()) {
    columns_ = {"epoch", "train_loss"};
    for (const auto& [name, value] : values) {
      if (name != "epoch" && name != "train_loss" && name != "seconds" && name != "peak_bytes") {
        columns_.push_back(name);
      }
    }
    columns_.insert(columns_.end(), {"seconds", "peak_bytes"});
  }
  std::vector<std::string> cells;
  for (const auto& column : columns_) {
    const auto it = row.find(column);
    cells.push_back(it == row.end() ? std::string() : format_number(it->second));
  }
  rows_.push_back(std::move(cells));
}

void MetricsTable::keep_epochs_up_to(int epoch) {
  for (size_t i = 0; i < rows_.size(); ++i) {
    const auto e = rows_[i].empty() ? std::nullopt : number(rows_[i][0]);
    if (!e || *e > epoch) {
      rows_.resize(i);
      return;
    }
  }
}

double MetricsTable::best(const std::string& column) const {
  double best = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < columns_.size(); ++k) {
    if (columns_[k] != column) continue;
    for (const auto& row : rows_) {
      const auto v = k < row.size() ? number(row[k]) : std::nullopt;
      if (v && !std::isnan(*v)) best = std::max(best, *v);
    }
  }
  return best;
}

std::string MetricsTable::csv() const {
  if (columns_.empty()) return "";
  std::string text;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + cells[i];
    text += "\n";
  };
  line(columns_);
  for (const auto& row : rows_) line(row);
  return text;
}

nlohmann::json MetricsTable::to_json() const {
  auto rows = nlohmann::json::array();
  for (const auto& cells : rows_) {
    auto row = nlohmann::json::object();
    for (size_t i = 0; i < cells.size() && i < columns_.size(); ++i) {
      if (cells[i].empty()) continue;
      const auto v = number(cells[i]);
      // "nan" parses; anything else is kept as written
      row[utf8(columns_[i])] = v ? nlohmann::json(*v) : nlohmann::json(utf8(cells[i]));
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace revup
