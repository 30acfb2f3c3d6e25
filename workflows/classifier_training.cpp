#include "workflows/classifier_training.h"

#include <filesystem>

#include "core/device.h"
#include "io/idx_dataset.h"
#include "models/network.h"
#include "workflows/training_run.h"

namespace revup {
namespace {

// The share of the test set classified right. Under torchrun each rank scores
// its own contiguous part and the counts are summed: every rank gets the
// whole set's accuracy for a fraction of the work.
double accuracy(Network& net, const IdxClassificationDataset& test, c10::Device device,
                DataParallelGroup* group) {
  const int64_t n = test.labels().size(0);
  const int64_t ranks = group ? group->size() : 1;
  const int64_t rank = group ? group->rank() : 0;
  const int64_t begin = n * rank / ranks, end = n * (rank + 1) / ranks;
  int64_t correct = 0;
  for (int64_t i = begin; i < end; i += 500) {
    const int64_t len = std::min<int64_t>(500, end - i);
    const auto logits = net->forward(test.images().narrow(0, i, len).to(device));
    correct += logits.argmax(1).cpu().eq(test.labels().narrow(0, i, len)).sum().item<int64_t>();
  }
  if (group) {
    auto counts = torch::tensor({correct}, torch::kLong);
    group->all_reduce_sum({counts});
    correct = counts.item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

ClassifierTrainingResult train_classifier(const ClassifierTrainingRequest& request,
                                          ClassifierTrainingObserver& observer) {
  namespace fs = std::filesystem;
  const auto device = select_device(rank_device(request.run));
  const auto path = [&](const char* name) { return (fs::path(request.data) / name).string(); };
  IdxClassificationDataset train(path("train-images-idx3-ubyte.gz"),
                                 path("train-labels-idx1-ubyte.gz"), request.limit_train);
  IdxClassificationDataset test(path("t10k-images-idx3-ubyte.gz"),
                                path("t10k-labels-idx1-ubyte.gz"), request.limit_test);
  // Statistics of the training images, stored with the run and applied to both sets.
  const double mean = train.images().mean().item<double>();
  const double std = train.images().std().item<double>();
  train.normalize(mean, std);
  test.normalize(mean, std);
  torch::manual_seed(request.run.seed);
  ModelConfig c;
  c.arch = request.arch;
  c.depth = request.depth;
  c.in_channels = 1;
  c.num_classes = 10;
  Network net(c);
  net->to(device);

  auto options = training_run_options(request.run, device);
  options.trainer.batch_size = request.batch_size;
  options.description = {
      {"task", "classification"},
      {"model", c.to_json()},
      {"classes", {{"names", fashion_mnist_class_names()}, {"source", "Fashion-MNIST's labels"}}},
      {"data", {{"path", request.data}, {"train", train.size()}, {"test", test.size()}}},
      {"normalization", {{"mean", {mean}}, {"std", {std}}}}};
  options.best_metric = "test_accuracy";
  TrainingRun run(
      trainable(net),
      [](const torch::Tensor& out, const torch::Tensor& target) {
        return torch::nn::functional::cross_entropy(out, target);
      },
      options);
  run.set_evaluation([&] {
    return std::map<std::string, double>{
        {"test_accuracy", accuracy(net, test, device, options.trainer.group.get())}};
  });
  ForwardingObserver forward(observer);
  run.add_observer(&forward);
  observer.on_start({train.size(), test.size(), run.completed_epochs()});
  ClassifierTrainingResult result;
  result.finished = run.fit(train);
  result.completed_epochs = run.completed_epochs();
  result.last_metrics = run.last_metrics();
  return result;
}

}  // namespace revup
