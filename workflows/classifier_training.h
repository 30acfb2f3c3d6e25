#pragma once
// The one way a classifier is trained (revup-cli train-classifier): a CIFAR-
// style ResNet or RevUp on Fashion-MNIST's IDX files, into a run folder with
// the same schema as a segmentation run's (workflows/run_folder.h), which `export`
// and `bench invert` read.
#include <map>
#include <string>

#include "core/trainer.h"
#include "workflows/training_run.h"

namespace revup {

struct ClassifierTrainingRequest {
  // Fashion-MNIST's defaults: 2 epochs at lr 0.1, weight decay 5e-4, and
  // gradients clipped to 1 (ResNet+Fixup diverges there at lr 0.1 without).
  ClassifierTrainingRequest() {
    run.epochs = 2;
    run.lr = 0.1;
    run.weight_decay = 5e-4;
    run.clip_grad = 1.0;
  }
  TrainingBasics run;
  std::string data;  // folder with the four IDX(.gz) files
  std::string arch = "revup-memsave";
  int depth = 20;
  int64_t batch_size = 128;
  int64_t limit_train = 0, limit_test = 0;  // 0: all
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
