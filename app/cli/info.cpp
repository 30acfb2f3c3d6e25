#include <torch/torch.h>

#include <iostream>
#include <thread>

#include "app/cli/commands.h"
#include "core/memory_tracker.h"
#include "core/torch_compat.h"

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
    j["built_in"] = {{"png_plots", REVUP_HAVE_PNG_PLOTS_BOOL},
                     {"fashion_mnist_reader", REVUP_HAVE_IO_BOOL},
                     {"gui", false},
                     {"plugins", nlohmann::json::array()}};
    std::cout << "RevUp Studio " << REVUP_VERSION << "\n"
              << "  LibTorch        " << j["libtorch_version"].get<std::string>() << "\n"
              << "  threads         " << j["threads"] << " of " << j["hardware_threads"] << "\n"
              << "  CUDA            " << (torch::cuda::is_available() ? "yes" : "no") << " ("
              << j["cuda_devices"] << " devices)\n"
              << "  PNG plots       "
              << (REVUP_HAVE_PNG_PLOTS_BOOL ? "yes" : "no (built without OpenCV)") << "\n"
              << "  Fashion-MNIST   " << (REVUP_HAVE_IO_BOOL ? "yes" : "no (built without zlib)")
              << "\n"
              << "  GUI, plugins    not built yet\n";
    if (!json_path.empty()) write_json(json_path, j);
  });
}

}  // namespace revup::cli
