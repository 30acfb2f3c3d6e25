// revup_export_fixture OUT_DIR: what the Python consumer test
// (tests/cli/python_consumers.py) loads. For a classifier (RevUp-20) and a
// segmentation net (patch stem, bilinear decoder), weights perturbed away from
// Fixup's init so every branch counts, it writes through write_export (the
// path the CLI takes):
//   NAME.pt                         TorchScript
//   NAME.pth, NAME.architecture.json  weights and the op list
//   NAME.io.pt                      {"input": raw pixels, "output": the C++ model's
//                                   eval forward on them}, for torch.load
// Python then reproduces "output" from "input" with both exports.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "../export_test_util.h"
#include "../test_util.h"
#include "core/model_export.h"
#include "models/network.h"
#include "models/segmentation_net.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

using testing::input_stats;
using testing::raw_and_normalized;
using testing::test_card;

// Both exports of `graph`, and the input with the model's output on it.
void write_case(const std::string& out, const std::string& name, const InferenceGraph& graph,
                const ModelCard& card, const torch::Tensor& raw, const torch::Tensor& output) {
  const auto base = (fs::path(out) / name).string();
  const auto script = write_export(graph, ExportFormat::kTorchScript, base + ".pt", card);
  write_export(graph, ExportFormat::kWeights, base + ".pth", card);
  c10::Dict<std::string, at::Tensor> io;
  io.insert("input", raw);
  io.insert("output", output);
  const auto bytes = torch::pickle_save(io);
  std::ofstream f(base + ".io.pt", std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f.flush()) throw std::runtime_error(base + ".io.pt: write failed");
  std::printf("%s: input %s, output %s (scale %.3g), C++ TorchScript read-back %.3g\n",
              name.c_str(), c10::str(raw.sizes()).c_str(), c10::str(output.sizes()).c_str(),
              output.abs().max().item<double>(), script.max_abs_difference);
}

void run(const std::string& out) {
  torch::NoGradGuard no_grad;
  {
    torch::manual_seed(21);
    Network net(testing::small_cifar("revup-memsave", 20));
    testing::perturb(*net);
    net->eval();
    const auto n = input_stats(3);
    const auto [raw, x] = raw_and_normalized(n, {2, 3, 32, 32});
    write_case(out, "classifier", net->inference_graph(n), test_card("classification", 3, n), raw,
               net->forward(x));
  }
  {
    torch::manual_seed(22);
    SegmentationNet net(testing::tiny_segmentation());
    testing::perturb(*net);
    net->eval();
    const auto n = input_stats(3);
    // An odd size: fractional resize scales and the patch stem's cropping.
    const auto [raw, x] = raw_and_normalized(n, {1, 3, 45, 61});
    write_case(out, "segmentation", net->inference_graph(n), test_card("segmentation", 3, n), raw,
               net->forward(x));
  }
}

}  // namespace
}  // namespace revup

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: revup_export_fixture OUT_DIR\n";
    return 2;
  }
  torch::set_num_threads(1);
  try {
    std::filesystem::create_directories(argv[1]);
    revup::run(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "revup_export_fixture: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
