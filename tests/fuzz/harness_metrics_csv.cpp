// workflows/metrics_table: MetricsTable::read on any bytes, then what its
// readers do with it (the GUI's chart and `export`'s model card: to_json and
// best; resume: keep_epochs_up_to, then append and write back).
#include "tests/fuzz/fuzz_util.h"
#include "workflows/metrics_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  const auto path = fuzz::write_input("metrics.csv", data, size);
  fuzz::expect_clear_error(path, [&] {
    auto table = MetricsTable::read(path);
    (void)table.to_json().dump();
    for (const auto& column : table.columns()) (void)table.best(column);
    (void)table.best("val_miou");
    table.keep_epochs_up_to(3);
    table.append(4, {{"train_loss", 0.5}, {"val_miou", 0.25}});
    (void)table.csv();
  });
  return 0;
}
