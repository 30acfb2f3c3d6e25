// The run folder's schema in one place: metrics.csv written and read back
// the same, the checkpoint a workflow picks, and a failed new run cleaned up.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "workflows/metrics_table.h"
#include "workflows/run_folder.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("revup-run-folder-test-" + name);
  fs::remove_all(dir);
  return dir;
}

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

TEST(MetricsTable, WritesReadsBackAndDropsEpochsTheCheckpointLacks) {
  MetricsTable table;
  table.append(1, {{"train_loss", 0.5}, {"miou", 0.25}, {"seconds", 2}, {"peak_bytes", 1024}});
  table.append(2, {{"train_loss", 0.4}, {"miou", NAN}, {"seconds", 2.5}, {"peak_bytes", 2048}});
  table.append(3, {{"train_loss", 0.3}, {"miou", 0.125}, {"seconds", 3}, {"peak_bytes", 4096}});
  EXPECT_EQ(table.csv(),
            "epoch,train_loss,miou,seconds,peak_bytes\n"
            "1,0.5,0.25,2,1024\n"
            "2,0.4,,2.5,2048\n"
            "3,0.3,0.125,3,4096\n");
  EXPECT_DOUBLE_EQ(table.best("miou"), 0.25);
  EXPECT_TRUE(std::isinf(table.best("no such column")));

  const auto dir = fresh_dir("metrics");
  fs::create_directories(dir);
  const RunFolder run(dir.string());
  run.write_metrics(table);
  auto back = run.read_metrics();
  EXPECT_EQ(back.csv(), table.csv());
  const auto rows = back.to_json();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].count("miou"), 0u);  // the empty cell is left out
  EXPECT_DOUBLE_EQ(rows[2]["peak_bytes"].get<double>(), 4096);

  back.keep_epochs_up_to(2);
  EXPECT_EQ(back.size(), 2u);
  back.append(3, {{"train_loss", 0.2}});  // columns stay as the first row set them
  EXPECT_EQ(back.csv().substr(back.csv().rfind("3,")), "3,0.2,,,\n");
  EXPECT_EQ(MetricsTable::read((dir / "missing.csv").string()).size(), 0u);
  fs::remove_all(dir);
}

TEST(RunFolder, PicksTheCheckpointAndSaysWhatIsMissing) {
  const auto dir = fresh_dir("checkpoints");
  const RunFolder run(dir.string());
  try {
    run.read_config();
    FAIL() << "a missing folder must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("run folder not found"), std::string::npos) << e.what();
  }
  fs::create_directories(dir);
  try {
    run.checkpoint("best");
    FAIL() << "a run without checkpoints must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("last.pt: missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run.checkpoint("first"), std::invalid_argument);
  touch(dir / "last.pt");
  EXPECT_EQ(run.checkpoint("best"), (dir / "last.pt").string());  // no validation ran
  touch(dir / "best.pt");
  EXPECT_EQ(run.checkpoint("best"), (dir / "best.pt").string());
  EXPECT_EQ(run.checkpoint("last"), (dir / "last.pt").string());
  std::ofstream(dir / "config.json") << "{\"model\": ";
  try {
    run.read_config();
    FAIL() << "a truncated config.json must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: not valid JSON"), std::string::npos)
        << e.what();
  }
  torch::nn::Linear module(2, 2);
  try {
    run.load_model(*module, "last");
    FAIL() << "a garbled checkpoint must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("last.pt: unreadable checkpoint"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(NewRunCleanup, RemovesAFailedNewRunAndKeepsEverythingElse) {
  const auto dir = fresh_dir("cleanup");
  {
    NewRunCleanup cleanup(RunFolder(dir.string()), /*resume=*/false);
    fs::create_directories(dir);
    touch(dir / "config.json");
    touch(dir / "metrics.csv");
  }
  EXPECT_FALSE(fs::exists(dir)) << "a new run that saved nothing leaves no folder";

  fs::create_directories(dir);
  touch(dir / "notes.txt");  // the user's own file in a folder they made
  {
    NewRunCleanup cleanup(RunFolder(dir.string()), /*resume=*/false);
    touch(dir / "config.json");
  }
  EXPECT_FALSE(fs::exists(dir / "config.json"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));

  {
    NewRunCleanup cleanup(RunFolder(dir.string()), /*resume=*/false);
    touch(dir / "config.json");
    touch(dir / "last.pt");  // an epoch completed: the run is worth resuming
  }
  EXPECT_TRUE(fs::exists(dir / "config.json"));
  fs::remove(dir / "last.pt");
  { NewRunCleanup cleanup(RunFolder(dir.string()), /*resume=*/true); }
  EXPECT_TRUE(fs::exists(dir / "config.json")) << "a resumed run is never removed";
  {
    NewRunCleanup cleanup(RunFolder(dir.string()), /*resume=*/false);
    cleanup.keep();
  }
  EXPECT_TRUE(fs::exists(dir / "config.json"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace revup
