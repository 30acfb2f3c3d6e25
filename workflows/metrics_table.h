#pragma once
// metrics.csv, one row per completed epoch: "epoch", "train_loss", the
// validation metrics, "seconds", "peak_bytes". The one reader and writer of
// the format: the training run appends to it, `export`'s model card and the
// GUI's metrics chart read it.
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace revup {

class MetricsTable {
 public:
  // An empty table when the file is missing or empty (a run before its first epoch).
  static MetricsTable read(const std::string& path);

  const std::vector<std::string>& columns() const { return columns_; }
  size_t size() const { return rows_.size(); }

  // Appends an epoch's values. The first row fixes the columns; a value
  // without a column is dropped, a column without a value is left empty.
  void append(int epoch, const std::map<std::string, double>& values);
  // Drops the rows after `epoch`: a crash between the checkpoint and the
  // metrics write may have left one that the checkpoint lacks.
  void keep_epochs_up_to(int epoch);
  // The largest value of `column` over the rows (NaN and empty cells skipped);
  // -infinity when there is none.
  double best(const std::string& column) const;

  std::string csv() const;
  // One object per row, numbers as numbers, empty cells left out.
  nlohmann::json to_json() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;  // cells as written
};

}  // namespace revup
