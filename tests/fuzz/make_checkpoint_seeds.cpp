// Writes the checkpoint harness's seeds (corpus/checkpoint) with our own
// Trainer: a real checkpoint before and after a step (the second has SGD's
// momentum buffers), one of a wider model (every shape wrong), one with the
// model alone, one with other keys, one of epoch -3. tests/fuzz/make_seeds.sh runs it.
#include <iostream>

#include "tests/fuzz/checkpoint_model.h"

namespace {

using namespace revup;

class TwoImages : public Dataset {
 public:
  size_t size() const override { return 2; }
  Example get(size_t i) const override {
    return {torch::full({1, 8, 8}, static_cast<float>(i)), torch::tensor(static_cast<int64_t>(i))};
  }
};

Trainer make_trainer(Network net) {
  return Trainer(trainable(std::move(net)), fuzz::checkpoint_loss,
                 fuzz::checkpoint_trainer_options());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUT_DIR\n";
    return 2;
  }
  const std::string out = argv[1];
  torch::manual_seed(0);
  torch::set_num_threads(1);
  Network net(fuzz::checkpoint_model_config());
  auto trainer = make_trainer(net);
  trainer.save_checkpoint(out + "/fresh.pt");
  trainer.fit(TwoImages());
  trainer.save_checkpoint(out + "/one_epoch.pt");
  make_trainer(Network(fuzz::checkpoint_model_config(3))).save_checkpoint(out + "/wider.pt");
  {
    torch::serialize::OutputArchive archive, model;
    net->save(model);
    archive.write(Trainer::kCheckpointModel, model);
    archive.save_to(out + "/model_only.pt");
  }
  {
    torch::serialize::OutputArchive archive, model;
    net->save(model);
    archive.write("weights", model);
    archive.write(Trainer::kCheckpointEpoch, torch::tensor({int64_t{1}, int64_t{2}}));
    archive.save_to(out + "/other_keys.pt");
  }
  {
    // A resume from epoch -3: was taken as is (a cast of any int64). The
    // optimizer's groups as Trainer makes them, so the load gets that far.
    const auto model = trainable(net);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(model.weights, std::make_unique<torch::optim::SGDOptions>(0.01));
    if (!model.scalars.empty()) {
      groups.emplace_back(model.scalars, std::make_unique<torch::optim::SGDOptions>(0.001));
    }
    torch::optim::SGD sgd(std::move(groups), torch::optim::SGDOptions(0.01));
    torch::serialize::OutputArchive archive, weights, optimizer;
    net->save(weights);
    sgd.save(optimizer);
    archive.write(Trainer::kCheckpointModel, weights);
    archive.write(Trainer::kCheckpointOptimizer, optimizer);
    archive.write(Trainer::kCheckpointEpoch, torch::tensor(int64_t{-3}));
    archive.save_to(out + "/negative_epoch.pt");
  }
  return 0;
}
