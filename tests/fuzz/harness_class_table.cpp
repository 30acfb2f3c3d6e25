// io/class_table: read_class_table_file on any bytes, read both ways: as
// JSON (classes.json) and as labelme's one name a line (class_names.txt).
#include "io/class_table.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void check(const revup::ClassTable& table) {
  // Every class has its colour; the table round-trips through its own JSON.
  nlohmann::json j = table;
  if (j.at("classes").size() != table.classes.size()) revup::fuzz::fail("lost a class");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace revup;
  for (const char* name : {"classes.json", "class_names.txt"}) {
    const auto path = fuzz::write_input(name, data, size);
    ClassTable table;
    if (fuzz::expect_clear_error(path, [&] { table = read_class_table_file(path); })) check(table);
  }
  return 0;
}
