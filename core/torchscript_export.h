#pragma once
// An InferenceGraph as TorchScript: the baked tensors registered as the
// module's parameters, the forward written as TorchScript source from the
// graph's ops and compiled with Module::define. The result is an ordinary
// scripted module: torch::jit::load in C++, torch.jit.load in Python, and it
// needs nothing of this project to run.
#include <torch/script.h>

#include <string>

#include "core/inference_graph.h"

namespace revup {

// The forward's source: one line per op, values v0 (the input) .. vN.
std::string torchscript_source(const InferenceGraph& graph);

// The parameter name a graph tensor gets ("stage1_block0.conv1.weight" ->
// "stage1_block0_conv1_weight": TorchScript attributes are identifiers).
std::string torchscript_name(const std::string& tensor_name);

// Throws std::runtime_error when the graph does not compile (a bug, not a user error).
torch::jit::Module to_torchscript(const InferenceGraph& graph);

}  // namespace revup
