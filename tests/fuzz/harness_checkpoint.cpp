// Checkpoints as our code reads them: RunFolder::load_model's
// load_model_weights (predict, evaluate, export) and Trainer::load_checkpoint
// (--resume), on any bytes: LibTorch's zip reader underneath, our keys and
// our model's shapes above it. A load that succeeds must leave every
// parameter and buffer as the model declared it (a checkpoint of another
// model must be refused, not loaded and then fail in forward).
#include "core/checkpoint_loading.h"
#include "tests/fuzz/checkpoint_model.h"
#include "tests/fuzz/fuzz_util.h"
#include "workflows/run_folder.h"

namespace {

using namespace revup;
void check_same(const TensorShapes& before, const torch::nn::Module& m, const char* who) {
  if (tensor_shapes(m) != before) fuzz::fail(std::string(who) + " loaded tensors of other shapes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::init_torch();
  static const std::string dir = fuzz::scratch_subdir("run");
  const auto path = fuzz::write_input("run/last.pt", data, size);
  {
    Network net(fuzz::checkpoint_model_config());
    const auto before = tensor_shapes(*net);
    if (fuzz::expect_clear_error(path, [&] { RunFolder(dir).load_model(*net, "last"); })) {
      check_same(before, *net, "load_model");
      (void)net->forward(torch::zeros({1, 1, 8, 8}));
    }
  }
  {
    Network net(fuzz::checkpoint_model_config());
    const auto before = tensor_shapes(*net);
    Trainer trainer(trainable(net), fuzz::checkpoint_loss, fuzz::checkpoint_trainer_options());
    if (fuzz::expect_clear_error(path, [&] { trainer.load_checkpoint(path); })) {
      check_same(before, *net, "load_checkpoint");
      if (trainer.completed_epochs() < 0) fuzz::fail("a negative epoch resumed");
    }
  }
  return 0;
}
