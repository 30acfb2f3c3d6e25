#include "app/cli/bench_common.h"

namespace revup::cli {

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Memory, speed and inversion benchmarks (JSON out)");
  bench->require_subcommand(1);
  add_bench_memory(*bench);
  add_bench_speed(*bench);
  add_bench_4k(*bench);
  add_bench_invert(*bench);
  add_bench_segmentation(*bench);
#if REVUP_HAVE_IO_BOOL
  add_bench_raster(*bench);
  add_bench_lipschitz(*bench);
  add_bench_soak(*bench);
  add_bench_distributed(*bench);
#endif
}

}  // namespace revup::cli
