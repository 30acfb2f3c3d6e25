#include <torch/torch.h>

#include <iostream>
#include <thread>

#include "app/cli/bench_common.h"
#include "app/cli/commands.h"
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
    j["threads"] = torch::get_num_threads();
    j["hardware_threads"] = std::thread::hardware_concurrency();
    j["cuda_available"] = torch::cuda::is_available();
    j["cuda_devices"] = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
    j["cuda_memory_stats_built_in"] = compat::cuda_stats_available();
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
                     {"plugins", plugins}};
    std::cout << "RevUp Studio " << REVUP_VERSION << "\n"
              << "  LibTorch        " << j["libtorch_version"].get<std::string>() << "\n"
              << "  threads         " << j["threads"] << " of " << j["hardware_threads"] << "\n"
              << "  CUDA            " << (torch::cuda::is_available() ? "yes" : "no") << " ("
              << j["cuda_devices"] << " devices)\n"
              << "  PNG plots       "
              << (plots.empty() ? "no (built without Qt Charts and OpenCV)" : "yes (" + plots + ")")
              << "\n"
              << "  Fashion-MNIST   " << (REVUP_HAVE_IO_BOOL ? "yes" : "no (built without zlib)")
              << "\n"
              << "  GUI             "
              << (REVUP_HAVE_GUI_BOOL ? "yes (revup)" : "no (built without Qt 6)") << "\n"
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
