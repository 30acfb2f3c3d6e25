#include "core/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../test_util.h"

namespace revup {
namespace {

// Two classes told apart by the sign of the image mean: learnable in a few steps.
class SignDataset : public Dataset {
 public:
  explicit SignDataset(int n) {
    torch::manual_seed(50);
    images_ = torch::randn({n, 3, 8, 8}) + torch::randn({n, 1, 1, 1}).sign() * 0.5;
    labels_ = (images_.mean({1, 2, 3}) > 0).to(torch::kLong);
  }
  size_t size() const override { return static_cast<size_t>(images_.size(0)); }
  Example get(size_t i) const override {
    return {images_[static_cast<int64_t>(i)], labels_[static_cast<int64_t>(i)]};
  }

 private:
  torch::Tensor images_, labels_;
};

struct Run {
  Network net{nullptr};
  std::unique_ptr<Trainer> trainer;
};

Run make_run(int epochs) {
  torch::manual_seed(51);
  Run run;
  auto config = testing::small_cifar("revup-memsave", 8);
  config.num_classes = 2;
  run.net = Network(config);
  TrainerOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.lr = 0.05;
  o.seed = 3;
  auto net = run.net;
  run.trainer = std::make_unique<Trainer>(
      TrainableModel{net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward(x); },
                     net->weight_parameters(), net->scalar_parameters()},
      [](const torch::Tensor& out, const torch::Tensor& t) {
        return torch::nn::functional::cross_entropy(out, t);
      },
      o);
  return run;
}

struct LossLog : TrainObserver {
  std::vector<double> epoch_losses;
  void on_epoch(const EpochReport& r) override { epoch_losses.push_back(r.train_loss); }
};

TEST(Trainer, LossFalls) {
  SignDataset data(128);
  auto run = make_run(4);
  LossLog log;
  run.trainer->add_observer(&log);
  ASSERT_TRUE(run.trainer->fit(data));
  ASSERT_EQ(log.epoch_losses.size(), 4u);
  EXPECT_LT(log.epoch_losses.back(), 0.8 * log.epoch_losses.front());
}

TEST(Trainer, ResumeFromCheckpointReproducesTheUninterruptedRun) {
  SignDataset data(64);
  const auto dir = std::filesystem::temp_directory_path() / "revup_trainer_test";
  std::filesystem::create_directories(dir);
  const auto ckpt = (dir / "epoch1.pt").string();

  auto straight = make_run(2);
  straight.trainer->fit(data);

  auto first = make_run(2);
  EpochReport report;
  first.trainer->train_epoch(data, report);
  first.trainer->save_checkpoint(ckpt);
  auto resumed = make_run(2);
  resumed.trainer->load_checkpoint(ckpt);
  EXPECT_EQ(resumed.trainer->completed_epochs(), 1);
  resumed.trainer->fit(data);

  auto a = straight.net->named_parameters();
  for (const auto& p : resumed.net->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), a[p.key()])) << p.key();
  }
  std::filesystem::remove_all(dir);
}

TEST(Trainer, UnreadableCheckpointIsAClearErrorAndKeepsTheFile) {
  const auto path = std::filesystem::temp_directory_path() / "revup_not_a_checkpoint.pt";
  { std::ofstream(path) << "garbage"; }
  auto run = make_run(1);
  try {
    run.trainer->load_checkpoint(path.string());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST(Trainer, StepAndCosineSchedules) {
  auto run = make_run(10);
  TrainerOptions o;
  o.lr = 1.0;
  o.epochs = 10;
  o.milestones = {5, 8};
  auto net = run.net;
  auto loss = [](const torch::Tensor& a, const torch::Tensor&) { return a.sum(); };
  Trainer step({net.ptr(), nullptr, net->weight_parameters(), {}}, loss, o);
  EXPECT_DOUBLE_EQ(step.lr_for_epoch(4), 1.0);
  EXPECT_NEAR(step.lr_for_epoch(5), 0.1, 1e-12);
  EXPECT_NEAR(step.lr_for_epoch(9), 0.01, 1e-12);
  o.schedule = LrSchedule::kCosine;
  Trainer cosine({net.ptr(), nullptr, net->weight_parameters(), {}}, loss, o);
  EXPECT_DOUBLE_EQ(cosine.lr_for_epoch(0), 1.0);
  EXPECT_NEAR(cosine.lr_for_epoch(5), 0.5, 1e-12);
}

}  // namespace
}  // namespace revup
