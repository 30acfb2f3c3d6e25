#pragma once
// The model the checkpoint harness loads into and make_checkpoint_seeds.cpp
// saves from: the project's own classifier, as small as it builds (CIFAR-style
// ResNet-8, two channels a stage), so a checkpoint is a few KB.
#include "core/trainer.h"
#include "models/network.h"

namespace revup::fuzz {

inline ModelConfig checkpoint_model_config(int64_t width = 2) {
  ModelConfig c;
  c.arch = "resnet";
  c.depth = 8;
  c.in_channels = 1;
  c.num_classes = 2;
  c.widths = {width, width, width};
  return c;
}

inline TrainerOptions checkpoint_trainer_options() {
  TrainerOptions o;
  o.epochs = 1;
  o.batch_size = 2;
  o.lr = 0.01;
  return o;
}

inline torch::Tensor checkpoint_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  return torch::nn::functional::cross_entropy(logits, target);
}

}  // namespace revup::fuzz
