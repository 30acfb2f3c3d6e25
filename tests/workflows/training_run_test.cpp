// A run folder: what it writes, that it refuses to overwrite a run, keeps the
// best checkpoint, and resumes to exactly the weights of an uninterrupted run.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "workflows/training_run.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

class Points : public Dataset {
 public:
  size_t size() const override { return 32; }
  Example get(size_t i) const override {
    const auto x = torch::full({2}, static_cast<float>(i) / 32.0f);
    return {x, torch::tensor(static_cast<int64_t>(i % 2))};
  }
};

struct Fixture {
  torch::nn::Linear net{nullptr};
  TrainingRunOptions options;
  explicit Fixture(const std::string& dir, int epochs, bool resume = false) {
    torch::manual_seed(0);
    net = torch::nn::Linear(2, 2);
    options.dir = dir;
    options.resume = resume;
    options.trainer.epochs = epochs;
    options.trainer.batch_size = 8;
    options.trainer.lr = 0.1;
    options.description = {{"what", "a test"}};
  }
  TrainingRun run() {
    auto n = net;
    TrainingRun r(
        {net.ptr(),
         [n](const torch::Tensor& x) mutable { return n->forward(x); },
         net->parameters(),
         {}},
        [](const torch::Tensor& out, const torch::Tensor& y) {
          return torch::nn::functional::cross_entropy(out, y);
        },
        options);
    int calls = 0;
    r.set_evaluation([calls]() mutable {
      // Rises, falls, rises: best.pt must follow the maximum.
      const double scores[] = {0.2, 0.5, 0.3, 0.6};
      return std::map<std::string, double>{{"miou", scores[calls++ % 4]}};
    });
    return r;
  }
};

std::string temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("revup-run-test-" + name);
  fs::remove_all(dir);
  return dir.string();
}

TEST(TrainingRun, WritesTheRunFolder) {
  const auto dir = temp_dir("files");
  Fixture f(dir, 4);
  auto run = f.run();
  ASSERT_TRUE(run.fit(Points()));
  for (const char* name : {"config.json", "metrics.csv", "last.pt", "best.pt"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir) / name)) << name;
  }
  std::ifstream csv(fs::path(dir) / "metrics.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,train_loss,miou,seconds,peak_bytes");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 4);
  EXPECT_DOUBLE_EQ(run.best_score(), 0.6);
  std::ifstream config(fs::path(dir) / "config.json");
  const auto j = nlohmann::json::parse(config);
  EXPECT_EQ(j["what"], "a test");
  EXPECT_EQ(j["training"]["epochs"], 4);
}

TEST(TrainingRun, RefusesToOverwriteAndResumesExactly) {
  const auto straight = temp_dir("straight");
  Fixture a(straight, 4);
  auto run_a = a.run();
  ASSERT_TRUE(run_a.fit(Points()));

  const auto split = temp_dir("split");
  {
    Fixture b(split, 2);
    auto run_b = b.run();
    ASSERT_TRUE(run_b.fit(Points()));
  }
  EXPECT_THROW(Fixture(split, 4).run(), std::runtime_error) << "overwrote an existing run";
  Fixture c(split, 4, /*resume=*/true);
  auto run_c = c.run();
  EXPECT_EQ(run_c.completed_epochs(), 2);
  ASSERT_TRUE(run_c.fit(Points()));
  EXPECT_TRUE(c.net->weight.equal(a.net->weight)) << "resumed weights differ";
  std::ifstream csv(fs::path(split) / "metrics.csv");
  int lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  EXPECT_EQ(lines, 5) << "header + 4 epochs";
}

TEST(TrainingRun, ResumeWithoutARunSaysSo) {
  Fixture f(temp_dir("nothing"), 2, /*resume=*/true);
  EXPECT_THROW(f.run(), std::runtime_error);
}

}  // namespace
}  // namespace revup
