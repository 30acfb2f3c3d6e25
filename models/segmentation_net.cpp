#include "models/segmentation_net.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/json_number.h"
#include "models/conv1x1.h"
#include "models/state_utils.h"
#include "models/upsampled_loss.h"

namespace revup {

void SegmentationConfig::validate() const {
  if (num_classes < 2) throw std::invalid_argument("segmentation needs at least 2 classes");
  if (decoder_width < 1) throw std::invalid_argument("decoder_width must be >= 1");
  if (backbone.classifier)
    throw std::invalid_argument("a segmentation backbone has no classifier head");
  backbone.validate();
}

nlohmann::json SegmentationConfig::to_json() const {
  return {{"task", "segmentation"},
          {"backbone", backbone.to_json()},
          {"num_classes", num_classes},
          {"decoder_width", decoder_width},
          {"preset", preset}};
}

SegmentationConfig SegmentationConfig::from_json(const nlohmann::json& j) {
  SegmentationConfig c;
  c.backbone = ModelConfig::from_json(j.at("backbone"));
  c.num_classes = json_number(j, "num_classes", c.num_classes);
  c.decoder_width = json_number(j, "decoder_width", c.decoder_width);
  c.preset = j.value("preset", c.preset);
  c.validate();
  return c;
}

SegmentationNetImpl::SegmentationNetImpl(SegmentationConfig config) : config_(std::move(config)) {
  config_.backbone.classifier = false;
  config_.backbone.num_classes = config_.num_classes;
  config_.validate();
  backbone = register_module("backbone", Network(config_.backbone));
  laterals_ = register_module("laterals", torch::nn::ModuleList());
  const bool volumes = config_.backbone.dims == 3;
  // The same 1x1 convolutions in 3D (Conv3d modules: a checkpoint says which).
  const auto pointwise = [volumes](int64_t in, int64_t out) -> std::shared_ptr<torch::nn::Module> {
    if (volumes) return torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, 1)).ptr();
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1)).ptr();
  };
  for (const auto width : config_.backbone.resolved_widths()) {
    laterals_->push_back(pointwise(width, config_.decoder_width));
  }
  classifier_ =
      register_module("classifier", pointwise(config_.decoder_width, config_.num_classes));
}

namespace {

// Logits or features resized to `size` (2 or 3 axes): bilinear or trilinear,
// align_corners=false (what upsampled_segmentation_loss reproduces band by band).
torch::Tensor resize(const torch::Tensor& x, std::vector<int64_t> size) {
  namespace F = torch::nn::functional;
  auto options = F::InterpolateFuncOptions().size(std::move(size)).align_corners(false);
  if (x.dim() == 5) {
    options.mode(torch::kTrilinear);
  } else {
    options.mode(torch::kBilinear);
  }
  return F::interpolate(x, options);
}

torch::Tensor parameter(const torch::nn::Module& m, const std::string& name) {
  return m.named_parameters(/*recurse=*/false)[name];
}

}  // namespace

torch::Tensor SegmentationNetImpl::forward(const torch::Tensor& x) {
  return resize(forward_coarse(x), x.sizes().slice(2).vec());
}

torch::Tensor SegmentationNetImpl::forward_coarse(const torch::Tensor& x) {
  return relu_conv1x1(forward_features(x), parameter(*classifier_, "weight"),
                      parameter(*classifier_, "bias"));
}

torch::Tensor SegmentationNetImpl::head_loss(const torch::Tensor& features,
                                             const torch::Tensor& target,
                                             const SegmentationLossOptions& options) {
  return head_upsampled_segmentation_loss(features, parameter(*classifier_, "weight"),
                                          parameter(*classifier_, "bias"), target,
                                          {options.ignore_index, options.dice_weight});
}

torch::Tensor SegmentationNetImpl::forward_features(const torch::Tensor& x) {
  const auto stages = backbone->stage_features(x);
  const auto size = stages[0].sizes().slice(2).vec();
  // At 4K each stride-4 map is 47 MiB: the 1x1 convs are matrix products (no
  // layout copies), the sum accumulates in place (a product's output, which
  // no backward reads). Training's head loss keeps fused alone and writes
  // its gradient over it; forward_coarse's head keeps only relu(fused).
  torch::Tensor fused;
  for (size_t s = 0; s < stages.size(); ++s) {
    const auto& lateral = *laterals_[s];
    auto h = conv1x1(stages[s], parameter(lateral, "weight"), parameter(lateral, "bias"));
    if (s > 0) h = resize(h, size);
    fused = fused.defined() ? fused.add_(h) : h;
  }
  return fused;
}

InferenceGraph SegmentationNetImpl::inference_graph(const InputNormalization& input) {
  check_input_channels(input, config_.backbone.in_channels);
  torch::NoGradGuard no_grad;
  InferenceGraph graph;
  const int dims = static_cast<int>(config_.backbone.dims);
  const auto conv = conv_op(dims);
  const auto resize =
      dims == 3 ? InferenceOpKind::kResizeTrilinear : InferenceOpKind::kResizeBilinear;
  const int x = graph.add_normalization(input, dims);
  std::vector<int> stages;
  backbone->describe_stages(graph, x, "backbone.", &stages);
  // forward_coarse: 1x1 laterals, resized to stage 0's size, summed, ReLU, classifier.
  int fused = -1;
  for (size_t s = 0; s < stages.size(); ++s) {
    const auto& lateral = *laterals_[s];
    const auto name = "laterals." + std::to_string(s);
    int h = graph.add({conv,
                       {stages[s]},
                       {graph.add_tensor(name + ".weight", parameter(lateral, "weight")),
                        graph.add_tensor(name + ".bias", parameter(lateral, "bias"))},
                       {1, 0},
                       name});
    if (s > 0) h = graph.add({resize, {h, stages[0]}, {}, {}, name});
    fused = s == 0 ? h : graph.add({InferenceOpKind::kAdd, {fused, h}, {}, {}, "fuse"});
  }
  int h = graph.add({InferenceOpKind::kRelu, {fused}, {}, {}, "fuse"});
  h = graph.add({conv,
                 {h},
                 {graph.add_tensor("classifier.weight", parameter(*classifier_, "weight")),
                  graph.add_tensor("classifier.bias", parameter(*classifier_, "bias"))},
                 {1, 0},
                 "classifier"});
  // forward: the coarse logits resized to the input's height and width.
  graph.add({resize, {h, InferenceGraph::kInput}, {}, {}, "upsample"});
  return graph;
}

std::vector<torch::Tensor> SegmentationNetImpl::scalar_parameters() const {
  return revup::scalar_parameters(*this);
}

std::vector<torch::Tensor> SegmentationNetImpl::weight_parameters() const {
  return revup::weight_parameters(*this);
}

SegmentationObjective training_objective(SegmentationNet net,
                                         const SegmentationLossOptions& options) {
  return {{net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward_features(x); },
           net->weight_parameters(), net->scalar_parameters()},
          [net, options](const torch::Tensor& features, const torch::Tensor& target) mutable {
            return net->head_loss(features, target, options);
          }};
}

}  // namespace revup
