#include <torch/torch.h>

#include <iostream>
#include <thread>

#include "app/cli/bench_common.h"
#include "app/cli/commands.h"
#include "core/data_parallel_group.h"
#include "core/memory_tracker.h"
#include "core/torch_compat.h"
#if REVUP_HAVE_IO_BOOL
#include "io/plugin_loader.h"
#endif

namespace revup::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Versions, devices, threads and what was built in");
  static std::string json_path;
  cmd->add_option("--json", json_path, "Also write the report as JSON to this file");
  cmd->callback([] {
    nlohmann::json j;
    j["revup_version"] = REVUP_VERSION;
    j["libtorch_version"] = compat::torch_version();
    // What LibTorch was compiled against ("" for a CPU-only LibTorch).
    const std::string cuda = compat::cuda_built_version(), cudnn = compat::cudnn_built_version();
    j["libtorch_cuda_version"] = cuda;
    j["libtorch_cudnn_version"] = cudnn;
    j["threads"] = torch::get_num_threads();
    j["hardware_threads"] = std::thread::hardware_concurrency();
    const bool gpu = !cuda.empty() && torch::cuda::is_available();
    j["cuda_available"] = gpu;
    j["cuda_devices"] = gpu ? torch::cuda::device_count() : 0;
    j["cuda_memory_stats_built_in"] = compat::cuda_stats_available();
    auto gpus = nlohmann::json::array();
    for (int i = 0; gpu && i < static_cast<int>(torch::cuda::device_count()); ++i) {
      gpus.push_back({{"name", compat::cuda_device_name(i)},
                      {"total_bytes", MemoryTracker::total_bytes(c10::Device(c10::kCUDA, i))}});
    }
    j["gpus"] = gpus;
    std::string libtorch_line = compat::torch_version();
    libtorch_line +=
        cuda.empty() ? " (CPU only)"
                     : " (built for CUDA " + cuda + (cudnn.empty() ? "" : ", cuDNN " + cudnn) + ")";
    std::string gpu_line;
    if (cuda.empty()) {
      gpu_line = "no (this LibTorch has no CUDA)";
    } else if (!gpu) {
      gpu_line = "no (no GPU or no NVIDIA driver found)";
    } else {
      for (const auto& g : gpus) {
        gpu_line +=
            (gpu_line.empty() ? "" : "; ") + g["name"].get<std::string>() + ", " +
            std::to_string(static_cast<std::int64_t>(to_mib(g["total_bytes"].get<double>()))) +
            " MiB";
      }
    }
    auto plugins = nlohmann::json::array();
#if REVUP_HAVE_IO_BOOL
    for (const auto& p : revup::loaded_plugins()) {
      plugins.push_back({{"path", p.path},
                         {"loaded", p.loaded},
                         {"description", p.description},
                         {"formats", p.formats},
                         {"reason", p.reason}});
    }
#endif
    const std::string plots = plot_renderer();
    j["built_in"] = {{"png_plots", !plots.empty()},
                     {"png_plots_renderer", plots},
                     {"fashion_mnist_reader", REVUP_HAVE_IO_BOOL},
                     {"gui", static_cast<bool>(REVUP_HAVE_GUI_BOOL)},
                     {"data_parallel", data_parallel_unavailable().empty() ? "gloo" : ""},
                     {"plugins", plugins}};
    std::cout << "RevUp Studio " << REVUP_VERSION << "\n"
              << "  LibTorch        " << libtorch_line << "\n"
              << "  threads         " << j["threads"] << " of " << j["hardware_threads"] << "\n"
              << "  GPU usable      " << gpu_line << "\n"
              << "  PNG plots       "
              << (plots.empty() ? "no (built without Qt Charts and OpenCV)" : "yes (" + plots + ")")
              << "\n"
              << "  Fashion-MNIST   " << (REVUP_HAVE_IO_BOOL ? "yes" : "no (built without zlib)")
              << "\n"
              << "  GUI             "
              << (REVUP_HAVE_GUI_BOOL ? "yes (revup)" : "no (built without Qt 6)") << "\n"
              << "  data-parallel   "
              << (data_parallel_unavailable().empty()
                      ? data_parallel_backends() + " (under torchrun)"
                      : "no (" + data_parallel_unavailable() + ")")
              << "\n"
              << "  plugins         " << (plugins.empty() ? "none found" : "") << "\n";
    for (const auto& p : plugins) {
      std::cout << "    " << p["path"].get<std::string>() << ": "
                << (p["loaded"].get<bool>() ? "loaded, " + p["description"].get<std::string>()
                                            : "refused, " + p["reason"].get<std::string>())
                << "\n";
    }
    if (!json_path.empty()) write_json(json_path, j);
  });
}

}  // namespace revup::cli
