// revup-cli: the headless face of RevUp Studio.
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <iostream>
#include <thread>

#include "app/cli/commands.h"
#include "app/cli/rank_output.h"
#include "core/device.h"

int main(int argc, char** argv) {
  CLI::App app{"revup-cli: memory-efficient invertible residual networks (RevUp)"};
  app.require_subcommand(1);
  // `revup-cli train --threads 4` as well as `revup-cli --threads 4 train`:
  // subcommands created after this hand options they do not know to the app.
  app.fallthrough();
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for LibTorch (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  // LibTorch defaults to one thread on Debian's build; use the machine unless told.
  app.parse_complete_callback([&] {
    const int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    torch::set_num_threads(std::max(1, n));
  });
  revup::cli::add_info_command(app);
  revup::cli::add_bench_commands(app);
  revup::cli::add_train_classifier_command(app);
#if REVUP_HAVE_IO_BOOL
  revup::cli::add_train_segmentation_command(app);
  revup::cli::add_predict_command(app);
  revup::cli::add_evaluate_command(app);
  revup::cli::add_demo_command(app);
  revup::cli::add_export_command(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const revup::DeviceUnavailable& e) {
    // Before anything is read or written: a usage problem of this machine.
    revup::cli::print_error(e.what());
    return 2;
  } catch (const c10::Error& e) {
    revup::cli::print_error(e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    revup::cli::print_error(e.what());
    return 1;
  }
  return 0;
}
