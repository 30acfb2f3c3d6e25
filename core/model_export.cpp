#include "core/model_export.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/torchscript_export.h"

namespace revup {
namespace {
namespace fs = std::filesystem;

constexpr int kCardVersion = 1;
constexpr int64_t kDefaultCheckSize = 64;
// A 3D check input of 32^3 exercises every layer (the presets' coarsest stage
// is 1/16 of it or more) in a second on the CPU.
constexpr int64_t kDefaultVolumeCheckSize = 32;
constexpr uint64_t kCheckSeed = 20261129;

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw std::runtime_error(path + ": write failed (disk full or no permission?)");
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << j.dump(2) << "\n";
  out.flush();
  if (!out) throw std::runtime_error(path + ": write failed (disk full or no permission?)");
}

// A raw input the graph's normalization maps to roughly unit scale: random
// numbers far outside the trained range would test little.
torch::Tensor check_input(const ModelCard& card) {
  if (card.input_channels < 1) throw std::invalid_argument("model card: input_channels not set");
  std::vector<int64_t> shape{1, card.input_channels};
  if (card.input_size.empty()) {
    const auto side = card.spatial_dims == 3 ? kDefaultVolumeCheckSize : kDefaultCheckSize;
    shape.resize(static_cast<size_t>(2 + card.spatial_dims), side);
  } else {
    shape.insert(shape.end(), card.input_size.begin(), card.input_size.end());
  }
  auto generator = at::detail::createCPUGenerator(kCheckSeed);
  auto x = torch::randn(shape, generator);
  const auto& n = card.normalization;
  if (n.empty()) return x;
  std::vector<int64_t> stat_shape(shape.size(), 1);
  stat_shape[1] = card.input_channels;
  const auto stat = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::kFloat32).reshape(stat_shape);
  };
  return x * stat(n.std) + stat(n.mean);
}

double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) {
    throw std::runtime_error("the written model's output has shape " + c10::str(a.sizes()) +
                             ", the model's " + c10::str(b.sizes()));
  }
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

std::mutex& writers_mutex() {
  static std::mutex m;
  return m;
}

std::map<ExportFormat, ExportWriter>& writers() {
  static std::map<ExportFormat, ExportWriter> w;
  return w;
}

// A copy: a writer registered meanwhile does not pull one out from under an export.
std::optional<ExportWriter> registered_writer(ExportFormat format) {
  std::lock_guard<std::mutex> lock(writers_mutex());
  const auto it = writers().find(format);
  if (it == writers().end()) return std::nullopt;
  return it->second;
}

// Scripted module, read back from the file and run next to the graph.
double write_torchscript(const InferenceGraph& graph, const std::string& file,
                         const nlohmann::json& card, const torch::Tensor& x) {
  auto module = to_torchscript(graph);
  module.eval();
  module.save(file, {{"model_card.json", card.dump(2)}});
  torch::NoGradGuard no_grad;
  auto reloaded = torch::jit::load(file);
  reloaded.eval();
  const auto written = reloaded.forward({x}).toTensor();
  return max_abs_difference(written, graph.run(x));
}

// Weights: every tensor read back must equal the graph's, bit for bit.
double write_weights(const InferenceGraph& graph, const std::string& file) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : graph.tensors()) dict.insert(name, tensor);
  write_bytes(file, torch::pickle_save(dict));
  const auto loaded = torch::pickle_load(read_bytes(file)).toGenericDict();
  if (loaded.size() != graph.tensors().size()) {
    throw std::runtime_error("read back " + std::to_string(loaded.size()) + " tensors of " +
                             std::to_string(graph.tensors().size()));
  }
  double difference = 0.0;
  for (const auto& [name, tensor] : graph.tensors()) {
    const auto it = loaded.find(name);
    if (it == loaded.end()) throw std::runtime_error("tensor '" + name + "' did not read back");
    difference = std::max(difference, max_abs_difference(it->value().toTensor(), tensor));
  }
  return difference;
}

}  // namespace

ExportFormat export_format_from_name(const std::string& name) {
  if (name == "torchscript") return ExportFormat::kTorchScript;
  if (name == "weights") return ExportFormat::kWeights;
  if (name == "onnx") return ExportFormat::kOnnx;
  throw std::invalid_argument("unknown export format '" + name +
                              "' (torchscript, weights or onnx)");
}

const char* export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::kTorchScript:
      return "torchscript";
    case ExportFormat::kWeights:
      return "weights";
    case ExportFormat::kOnnx:
      return "onnx";
  }
  throw std::logic_error("unknown export format");
}

void register_export_writer(ExportFormat format, ExportWriter writer) {
  if (!writer.write_and_run) throw std::invalid_argument("export writer without a write function");
  std::lock_guard<std::mutex> lock(writers_mutex());
  writers()[format] = std::move(writer);
}

bool export_format_available(ExportFormat format) {
  return format == ExportFormat::kTorchScript || format == ExportFormat::kWeights ||
         registered_writer(format).has_value();
}

std::string companion_path(const std::string& path, const std::string& suffix) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + suffix)).string();
}

nlohmann::json ModelCard::to_json() const {
  const bool segmentation = task == "segmentation";
  const bool volumes = spatial_dims == 3;
  nlohmann::json input = {
      {"channels", input_channels},
      {"layout", volumes ? "NCDHW, float32" : "NCHW, float32"},
      {"values", input_values},
      {"size", input_size.empty() ? nlohmann::json(volumes ? "any (D, H, W)" : "any (H, W)")
                                  : nlohmann::json(input_size)}};
  if (normalization.empty()) {
    input["normalization"] = nullptr;
  } else {
    input["normalization"] = {
        {"mean", normalization.mean},
        {"std", normalization.std},
        {"applied", normalization.per_image
                        ? "inside the model, first: each input by its own mean and std per "
                          "channel (population, over its voxels), in float64, as training "
                          "normalized each volume; mean and std above are the training data's"
                        : "inside the model, first: (x - mean) / std per channel, in float64"}};
  }
  return {{"model_card_version", kCardVersion},
          {"task", task},
          {"architecture", architecture},
          {"inference",
           "plain forward: spectral normalization baked into the weights, Fixup scalars folded "
           "where exact, no fixed-point iteration"},
          {"classes", classes},
          {"input", input},
          {"output", !segmentation ? "[N, classes] class scores (logits)"
                     : volumes     ? "[N, classes, D, H, W] class scores (logits) at the input's "
                                     "size; the class id is their argmax over dim 1"
                               : "[N, classes, H, W] class scores (logits) at the input's size; "
                                 "the class id is their argmax over dim 1"},
          {"training", training},
          {"tool", {{"name", "RevUp Studio"}, {"version", tool_version}}}};
}

ExportReport write_export(const InferenceGraph& graph, ExportFormat format, const std::string& path,
                          const ModelCard& model_card) {
  ModelCard card = model_card;
  card.spatial_dims = graph.spatial_dims();
  const bool volumes = card.spatial_dims == 3;
  const auto positive = [](int64_t v) { return v >= 1; };
  if (!card.input_size.empty() &&
      (card.input_size.size() != static_cast<size_t>(card.spatial_dims) ||
       !std::all_of(card.input_size.begin(), card.input_size.end(), positive))) {
    throw std::invalid_argument(volumes
                                    ? "export input size must be D x H x W, all >= 1 (a 3D model)"
                                    : "export input size must be H x W, both >= 1");
  }
  // TorchScript and weights are core's own; any other format is a registered writer's.
  std::optional<ExportWriter> writer;
  if (format != ExportFormat::kTorchScript && format != ExportFormat::kWeights) {
    writer = registered_writer(format);
    if (!writer) {
      throw std::invalid_argument(std::string("this build has no ") + export_format_name(format) +
                                  " support (" + export_format_name(format) +
                                  " export is built when its libraries are found at configure "
                                  "time; see README)");
    }
    if (volumes && !writer->volumes) {
      throw std::invalid_argument(std::string(export_format_name(format)) +
                                  " export of 3D models is not supported yet (its reader here "
                                  "cannot run a 3D network); export torchscript or weights");
    }
    if (writer->needs_input_size && card.input_size.empty()) {
      throw std::invalid_argument(std::string("an ") + export_format_name(format) +
                                  " export is made for one fixed input size: give it (" +
                                  (volumes ? "D x H x W" : "H x W") + ")");
    }
  }
  const double tolerance = writer ? writer->tolerance : kExportTolerance;
  ExportReport report;
  auto j = card.to_json();
  j["format"] = export_format_name(format);
  const auto name = fs::path(path).filename().string();
  const auto card_name = fs::path(companion_path(path, ".card.json")).filename().string();
  const auto architecture_name =
      fs::path(companion_path(path, ".architecture.json")).filename().string();
  write_atomically(path, [&](const std::string& file) {
    if (writer) {
      const auto x = check_input(card);
      report.checked_input = x.sizes().vec();
      const auto expected = graph.run(x);
      torch::Tensor written;
      {
        torch::NoGradGuard no_grad;
        written = writer->write_and_run(graph, file, j, x);
      }
      report.max_abs_difference = max_abs_difference(written, expected);
      j["files"] = {name, card_name};
      j["verification"] = writer->details.is_object() ? writer->details : nlohmann::json::object();
      j["verification"].update({{"reader", writer->reader},
                                {"reference", "the model's inference graph (InferenceGraph::run)"},
                                {"input_shape", report.checked_input},
                                {"input_seed", kCheckSeed},
                                {"max_abs_difference", report.max_abs_difference},
                                {"tolerance", tolerance},
                                // what the difference is relative to
                                {"output_max_abs", expected.abs().max().item<double>()}});
    } else if (format == ExportFormat::kTorchScript) {
      const auto x = check_input(card);
      report.checked_input = x.sizes().vec();
      report.max_abs_difference = write_torchscript(graph, file, j, x);
      j["files"] = {name, card_name};
      j["verification"] = {{"reader", "torch::jit::load"},
                           {"reference", "the model's inference graph (InferenceGraph::run)"},
                           {"input_shape", report.checked_input},
                           {"max_abs_difference", report.max_abs_difference}};
    } else {
      report.max_abs_difference = write_weights(graph, file);
      write_json_file(companion_path(file, ".architecture.json"),
                      {{"task", card.task},
                       {"architecture", card.architecture},
                       {"weights", name},
                       {"graph", graph.to_json()}});
      j["files"] = {name, architecture_name, card_name};
      j["verification"] = {{"reader", "torch::pickle_load"},
                           {"max_abs_difference", report.max_abs_difference}};
    }
    if (!(report.max_abs_difference <= tolerance)) {
      throw std::runtime_error("the written model differs from the model by " +
                               c10::str(report.max_abs_difference) + " (tolerance " +
                               c10::str(tolerance) + ")");
    }
    write_json_file(companion_path(file, ".card.json"), j);
  });
  for (const auto& f : j["files"]) {
    report.files.push_back((fs::path(path).parent_path() / f.get<std::string>()).string());
  }
  return report;
}

}  // namespace revup
