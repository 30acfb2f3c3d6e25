// Checkpoints as our code reads them: RunFolder::load_model's
// load_model_weights (predict, evaluate, export) and Trainer::load_checkpoint
// (--resume), on any bytes: LibTorch's zip reader underneath, our keys and
// our model's shapes above it. A load that succeeds must leave every
// parameter and buffer as the model declared it (a checkpoint of another
// model must be refused, not loaded and then fail in forward).
#include <filesystem>
#include <map>

#include "tests/fuzz/checkpoint_model.h"
#include "tests/fuzz/fuzz_util.h"
#include "workflows/run_folder.h"

namespace {

using namespace revup;
using Shapes = std::map<std::string, std::pair<std::vector<int64_t>, c10::ScalarType>>;

Shapes shapes_of(const torch::nn::Module& m) {
  Shapes out;
  for (const auto& p : m.named_parameters())
    out[p.key()] = {p.value().sizes().vec(), p.value().scalar_type()};
  for (const auto& b : m.named_buffers())
    out[b.key()] = {b.value().sizes().vec(), b.value().scalar_type()};
  return out;
}

void check_same(const Shapes& before, const torch::nn::Module& m, const char* who) {
  if (shapes_of(m) != before) fuzz::fail(std::string(who) + " loaded tensors of other shapes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::init_torch();
  static const std::string dir = [] {
    const auto d = fuzz::scratch_dir() + "/run";
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto path = fuzz::write_input("run/last.pt", data, size);
  {
    Network net(fuzz::checkpoint_model_config());
    const auto before = shapes_of(*net);
    if (fuzz::expect_clear_error(path, [&] { RunFolder(dir).load_model(*net, "last"); })) {
      check_same(before, *net, "load_model");
      (void)net->forward(torch::zeros({1, 1, 8, 8}));
    }
  }
  {
    Network net(fuzz::checkpoint_model_config());
    const auto before = shapes_of(*net);
    Trainer trainer(trainable(net), fuzz::checkpoint_loss, fuzz::checkpoint_trainer_options());
    if (fuzz::expect_clear_error(path, [&] { trainer.load_checkpoint(path); })) {
      check_same(before, *net, "load_checkpoint");
      if (trainer.completed_epochs() < 0) fuzz::fail("a negative epoch resumed");
    }
  }
  return 0;
}
