#include "core/checkpoint_archive_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "core/checkpoint_loading.h"

namespace revup {
namespace {

namespace fs = std::filesystem;

// A checkpoint as Trainer::save_checkpoint nests it: a model with a
// submodule list (names that are not identifiers), an optimizer with state.
std::string write_checkpoint(const fs::path& dir) {
  torch::nn::Sequential model(torch::nn::Conv2d(1, 2, 3), torch::nn::BatchNorm2d(2));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  model->forward(torch::ones({1, 1, 4, 4})).sum().backward();
  optimizer.step();
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model->save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("epoch", torch::tensor(int64_t{1}));
  const auto path = (dir / "last.pt").string();
  archive.save_to(path);
  return path;
}

TEST(CheckpointCodeCheck, AcceptsWhatOutputArchiveWrites) {
  const auto dir = fs::temp_directory_path() / ("revup-code-check-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto path = write_checkpoint(dir);
  EXPECT_EQ(archive_problem(path), "");
  torch::serialize::InputArchive archive;
  EXPECT_NO_THROW(open_checkpoint(archive, path, "unreadable checkpoint"));
  fs::remove_all(dir);
}

TEST(CheckpointCodeCheck, AcceptsTheFormsLibTorch2Writes) {
  // From an OutputArchive of LibTorch 2.11 (SGD and Adam state, a ModuleList).
  EXPECT_EQ(code_record_problem("class Module(Module):\n"
                                "  __parameters__ = [\"params/size\", ]\n"
                                "  __buffers__ = []\n"
                                "  __annotations__ = []\n"
                                "  __annotations__[\"params/size\"] = Tensor\n"
                                "  __annotations__[\"94716143162832\"] = "
                                "__torch__.___torch_mangle_10.Module\n"
                                "  options : __torch__.___torch_mangle_17.Module\n"),
            "");
  EXPECT_EQ(code_record_problem("class Module(Module):\n  __parameters__ = []\n"
                                "  __buffers__ = []\n  step : int\n  lr : float\n"
                                "  betas : Tuple[float, float]\n  amsgrad : bool\n"
                                "  hook : Optional[List[Dict[str, Tensor]]]\n\n"),
            "");
}

TEST(CheckpointCodeCheck, RefusesWhatLibTorchWouldCompileAsSomethingElse) {
  const std::string header = "class Module(Module):\n";
  // The fuzzer's finds: a mangled __buffers__ becomes a class constant,
  // which LibTorch 1.13's ScriptTypeParser::parseClassConstant crashes on.
  EXPECT_NE(code_record_problem(header + "  _wbuffers__ = []\n"), "");
  EXPECT_NE(code_record_problem(header + "  running_vars__ = [\"weight\", ]\n"), "");
  EXPECT_NE(code_record_problem(header + "  __buffrs_e_ = []\n"), "");
  // Constants, methods, other dunders, escapes, deep nesting, no class.
  EXPECT_NE(code_record_problem(header + "  x : Final[int] = 3\n"), "");
  EXPECT_NE(code_record_problem(header + "  def forward(self, x):\n    return x\n"), "");
  EXPECT_NE(code_record_problem(header + "  __constants__ = [\"x\", ]\n"), "");
  EXPECT_NE(code_record_problem(header + "  __x__ : Tensor\n"), "");
  EXPECT_NE(code_record_problem(header + "  __parameters__ = [\"a\\\"b\", ]\n"), "");
  EXPECT_NE(code_record_problem(header + "  w : Tensorx\n"), "");
  EXPECT_NE(code_record_problem(header + "  w : __torch__\n"), "");
  std::string deep = "Tensor";
  for (int i = 0; i < 20; ++i) deep = "Optional[" + deep + "]";
  EXPECT_NE(code_record_problem(header + "  w : " + deep + "\n"), "");
  EXPECT_NE(code_record_problem("import os\n"), "");
  EXPECT_NE(code_record_problem(""), "");
  EXPECT_NE(code_record_problem(header + "  w : Tensor\r\n"), "");
  // The message says which line and shows it.
  EXPECT_NE(code_record_problem(header + "  w : Tensor\n  _wbuffers__ = []\n").find("line 3"),
            std::string::npos);
}

TEST(CheckpointPickleCheck, RefusesALengthLongerThanTheRecord) {
  // PROTO 2, BINUNICODE "ab", STOP: whole.
  const std::string ok("\x80\x02X\x02\x00\x00\x00" "ab.", 10);
  EXPECT_EQ(pickle_problem(ok), "");
  // The same string claiming 4 GB, as the fuzzer's file did.
  const std::string huge("\x80\x02X\x00\x00\x00\xf8" "ab.", 10);
  EXPECT_NE(pickle_problem(huge).find("4160749568 bytes"), std::string::npos)
      << pickle_problem(huge);
  // Truncated arguments, a frame past the end, a GLOBAL without newline.
  EXPECT_NE(pickle_problem(std::string("\x80", 1)), "");
  EXPECT_NE(pickle_problem(std::string("\x95\xff\x00\x00\x00\x00\x00\x00\x00.", 10)), "");
  EXPECT_NE(pickle_problem("cmodule"), "");
  // An opcode it does not know is left to LibTorch.
  EXPECT_EQ(pickle_problem("\xff\xff"), "");
}

TEST(CheckpointCodeCheck, OpeningAGarbledCheckpointNamesTheFileAndTheRecord) {
  const auto dir = fs::temp_directory_path() / ("revup-code-check2-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto path = write_checkpoint(dir);
  // Rewrite the first class's "__buffers__" in place (same length, stored
  // records; the zip reader does not check CRCs of what it reads).
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = bytes.find("  __buffers__ = []");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 18, "  _wbuffers__ = []");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  torch::serialize::InputArchive archive;
  try {
    open_checkpoint(archive, path, "unreadable checkpoint");
    FAIL() << "a garbled checkpoint opened";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": unreadable checkpoint (its TorchScript record code/", 0), 0u)
        << what;
    EXPECT_NE(what.find("_wbuffers__"), std::string::npos) << what;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace revup
