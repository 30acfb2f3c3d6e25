// revup-cli bench invert: how well each block's input is rebuilt from its
// output with N = 1..100 fixed-point iterations (the paper's Figure 5), the
// input image itself for a model with the injective stem (Figure 4), and how
// far MemSave's N = 1 parameter gradients are from exact ones. Each block's
// true Lip(g) (models/lipschitz_audit, not the estimator) is reported beside
// its errors: Eq. 4's convergence rate is only as good as that bound, and
// perturbed weights are measured after their spectral norms have converged on
// them (in eval mode the power iteration never runs, so the vectors would
// otherwise be those of Fixup's init, or random for a zero-initialized conv).
#include <torch/torch.h>

#include <iostream>
#include <map>
#include <string>

#include "app/cli/bench_common.h"
#include "models/lipschitz_audit.h"
#include "models/reconstruction_probe.h"
#include "models/state_utils.h"
#include "workflows/classifier_run.h"

namespace revup::cli {
namespace {

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

torch::Tensor flat_grads(Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  net->zero_grad();
  torch::nn::functional::cross_entropy(net->forward(x), y).backward();
  std::vector<torch::Tensor> g;
  for (auto& p : net->parameters()) g.push_back(p.grad().flatten());
  return torch::cat(g);
}

}  // namespace

void add_bench_invert(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("invert", "Reconstruction error versus fixed-point iterations");
  auto o = std::make_shared<BenchOptions>();
  o->input = {8, 3, 32, 32};
  add_common_bench_options(cmd, *o, "bench-invert.json");
  auto depth = std::make_shared<int>(20);
  auto iterations = std::make_shared<int>(100);
  auto perturbation = std::make_shared<double>(0.2);
  auto model_dir = std::make_shared<std::string>();
  auto injective = std::make_shared<bool>(false);
  auto grid = std::make_shared<int64_t>(128);
  cmd->add_option("--depth", *depth, "CIFAR-style RevUp depth (when no --model)")
      ->capture_default_str();
  cmd->add_option("--iterations", *iterations, "Largest N")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--perturb", *perturbation,
                  "Std of the noise added to Fixup's init (when no --model)")
      ->capture_default_str();
  cmd->add_option("--model", *model_dir, "A trained run folder (train-classifier --out)");
  cmd->add_flag("--injective-stem", *injective,
                "Zero-pad the input's channels instead of the first conv (when no --model): "
                "the input image itself is then rebuilt too");
  cmd->add_option("--grid", *grid,
                  "Frequency grid of each conv's true operator norm (the reported Lip(g))")
      ->check(CLI::Range(8, 1024))
      ->capture_default_str();
  cmd->callback([=] {
    const auto device = select_device(o->device);
    torch::manual_seed(o->seed);
    Network net{nullptr};
    nlohmann::json normalization;
    if (!model_dir->empty()) {
      net = load_classifier(*model_dir);
      normalization = {{"spectral_norm", "as trained (the run's power-iteration vectors)"}};
    } else {
      ModelConfig c;
      c.arch = "revup";
      c.depth = *depth;
      c.in_channels = o->input[1];
      c.injective_stem = *injective;
      net = Network(c);
      perturb_parameters(*net, *perturbation, *perturbation / 2);
      const double tolerance = 1e-7;
      const int iterations_used = converge_spectral_norms(*net, tolerance);
      normalization = {{"spectral_norm", "converged on the perturbed weights"},
                       {"relative_tolerance", tolerance},
                       {"power_iterations", iterations_used}};
    }
    net->to(device);
    if (net->config().in_channels != o->input[1]) {
      throw std::invalid_argument("--input has " + std::to_string(o->input[1]) +
                                  " channels, the model expects " +
                                  std::to_string(net->config().in_channels));
    }
    const auto [x, y] = random_batch(o->input, net->config().num_classes, device);

    const auto audit = audit_lipschitz(*net, *grid);
    std::map<std::string, double> lipschitz_of;
    for (const auto& b : audit.blocks) lipschitz_of[b.name] = b.bound;
    normalization["max_true_sigma_over_c"] = audit.max_sigma_over_c;
    normalization["max_block_lipschitz"] = audit.max_block_bound;
    normalization["grid"] = *grid;

    // Per-block reconstruction error along the trajectory x^1 .. x^N.
    net->eval();
    torch::NoGradGuard no_grad;
    nlohmann::json blocks = nlohmann::json::array();
    PlotSpec plot{"Reconstruction error per block (fixed-point iterations N)",
                  "block",
                  "relative l2 error x 1000",
                  {}};
    const std::vector<int> shown = {1, 5, 40};
    std::vector<std::vector<double>> by_n(shown.size());
    for (const auto& curve : reconstruction_errors(net, x, *iterations)) {
      for (size_t k = 0; k < shown.size(); ++k) {
        if (shown[k] <= *iterations) by_n[k].push_back(1000 * curve.relative_errors[shown[k] - 1]);
      }
      const auto lipschitz = lipschitz_of.find(block_module_name({curve.stage, curve.block}));
      blocks.push_back(
          {{"stage", curve.stage},
           {"block", curve.block},
           {"true_lipschitz", lipschitz == lipschitz_of.end() ? nlohmann::json(nullptr)
                                                              : nlohmann::json(lipschitz->second)},
           {"relative_l2_error", curve.relative_errors}});
    }
    for (size_t k = 0; k < shown.size(); ++k) {
      if (!by_n[k].empty()) plot.series.push_back({"N = " + std::to_string(shown[k]), by_n[k]});
    }

    // The input image rebuilt through the stem and the first invertible stage.
    nlohmann::json input_image = nullptr;
    if (reconstructs_input(net)) {
      nlohmann::json errors = nlohmann::json::array();
      int blocks = 0;
      for (int n : {1, 2, 5, 10, 20, 40, 100}) {
        if (n > *iterations) break;
        const auto rebuilt = reconstruct_input(net, x, n);
        errors.push_back({{"n", n}, {"relative_l2_error", rebuilt.relative_error}});
        blocks = rebuilt.blocks;
      }
      input_image = {{"blocks", blocks}, {"by_iterations", errors}};
    }

    // Gradients of MemSave with N = 1 against exact autograd, same weights.
    torch::AutoGradMode grad_on(true);
    auto exact_config = net->config();
    exact_config.arch = "revup";
    exact_config.sn.power_iterations = 0;  // identical weights in both runs
    auto memsave_config = exact_config;
    memsave_config.arch = "revup-memsave";
    memsave_config.inverse = FixedPointOptions{};  // N = 1, as training uses
    Network exact(exact_config), memsave(memsave_config);
    exact->to(device);
    memsave->to(device);
    copy_state(*net, *exact);
    copy_state(*net, *memsave);
    const auto g_exact = flat_grads(exact, x, y);
    const auto g_memsave = flat_grads(memsave, x, y);
    const double grad_error = relative(g_memsave, g_exact);

    nlohmann::json report = bench_header(*o, device);
    report["model"] = model_dir->empty() ? "perturbed Fixup init" : *model_dir;
    report["config"] = net->config().to_json();
    report["normalization"] = normalization;
    report["blocks"] = blocks;
    report["gradient_relative_error_n1"] = grad_error;
    report["input_image"] = input_image;
    report["keys"] = {{"relative_l2_error", "||x_N - x|| / ||x|| for N = 1.. (index N-1)"},
                      {"true_lipschitz",
                       "the block's Lip(g): product of its convs' true operator norms "
                       "(transfer matrices on a `grid` frequency grid, any input size), "
                       "Fixup's scale included; Eq. 4: the error shrinks at least this "
                       "factor per iteration"},
                      {"normalization",
                       "what the spectral norms were measured on; the largest true sigma / c "
                       "and block Lip(g) of the measured weights"},
                      {"input_image",
                       "injective stem only: the image rebuilt through `blocks` blocks; "
                       "||x_N - x|| / ||x|| for several N (null for a conv stem)"},
                      {"gradient_relative_error_n1",
                       "||g_memsave(N=1) - g_exact|| / ||g_exact||, all parameters"}};
    write_json(o->json, report);
    std::printf("spectral norms %s; largest true sigma / c %.4f, largest block Lip(g) %.4f\n",
                normalization["spectral_norm"].get<std::string>().c_str(), audit.max_sigma_over_c,
                audit.max_block_bound);
    std::printf("%zu invertible blocks; relative error, mean (worst block):", blocks.size());
    for (size_t k = 0; k < shown.size(); ++k) {
      if (by_n[k].empty()) continue;
      const auto errors = torch::tensor(by_n[k]) / 1000;
      std::printf(" N=%d: %.2e (%.2e)", shown[k], errors.mean().item<double>(),
                  errors.max().item<double>());
    }
    std::printf("\n");
    if (!input_image.is_null()) {
      std::printf("input image rebuilt through %d blocks: relative error",
                  input_image["blocks"].get<int>());
      for (const auto& e : input_image["by_iterations"]) {
        std::printf(" N=%d: %.2e", e["n"].get<int>(), e["relative_l2_error"].get<double>());
      }
      std::printf("\n");
    }
    std::printf("parameter gradients, MemSave N=1 vs exact: relative error %.3e\n", grad_error);
    std::cout << "wrote " << o->json;
    if (write_plot(plot, output_stem(o->json) + ".png"))
      std::cout << ", " << output_stem(o->json) << ".png";
    std::cout << "\n";
  });
}

}  // namespace revup::cli
