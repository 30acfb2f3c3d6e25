#pragma once
// The one way a classifier is trained (revup-cli train-classifier): a CIFAR-
// style ResNet or RevUp on Fashion-MNIST's IDX files, into a run folder with
// the same schema as a segmentation run's (workflows/run_folder.h), which `export`
// and `bench invert` read.
#include <map>
#include <string>

#include "core/trainer.h"

namespace revup {

struct ClassifierTrainingRequest {
  std::string data;  // folder with the four IDX(.gz) files
  std::string run_dir;
  bool resume = false;
  std::string arch = "revup-memsave";
  int depth = 20;
  int epochs = 2;
  int64_t batch_size = 128;
  double lr = 0.1;  // cosine schedule; Fixup's scalars at lr/10
  double weight_decay = 5e-4;
  double clip_grad = 1.0;
  int64_t limit_train = 0, limit_test = 0;  // 0: all
  uint64_t seed = 0;
  std::string device = "cpu";
};

struct ClassifierTrainingStart {
  size_t train = 0, test = 0;
  int resumed_after_epoch = 0;
};

class ClassifierTrainingObserver : public TrainObserver {
 public:
  virtual void on_start(const ClassifierTrainingStart&) {}
};

struct ClassifierTrainingResult {
  bool finished = false;
  int completed_epochs = 0;
  std::map<std::string, double> last_metrics;  // "test_accuracy"
};

// Throws std::runtime_error naming the file and the problem.
ClassifierTrainingResult train_classifier(const ClassifierTrainingRequest& request,
                                          ClassifierTrainingObserver& observer);

}  // namespace revup
