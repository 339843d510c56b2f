// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// cnn_crop feature stage and its crop-and-CNN pooler (see cnn_crop.h).
#include "features/cnn_crop.h"

#include <torch/types.h>

#include <algorithm>

#include "config/checked.h"
#include "classifiers/fast_rcnn_head.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "features/backbone.h"
#include "features/cnn_crop_warp.h"
#include "nn/ops/roi_align.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"
#include "pipeline/feature_maps.h"
#include "pipeline/region_evidence.h"
#include "pipeline/torch_stage.h"

namespace detlab {

torch::Tensor warp_regions(const torch::Tensor& images, const torch::Tensor& rois, int64_t size, double context) {
  TORCH_CHECK(size >= 1 && context >= 0 && 2 * context < size, "warp_regions: need size >= 1 and 0 <= context < size / 2, got ",
              size, ", ", context);
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "warp_regions: rois must be K x 5, got ", rois.sizes());
  // The box spans size - 2 context output pixels, so `context` output pixels are context * w / (size - 2 context)
  // image pixels on each side.
  const double inner = static_cast<double>(size) - 2.0 * context;
  const torch::Tensor r = rois.to(images.scalar_type());
  const torch::Tensor w = (r.select(1, 3) - r.select(1, 1)).clamp_min(1.0);
  const torch::Tensor h = (r.select(1, 4) - r.select(1, 2)).clamp_min(1.0);
  const torch::Tensor cx = w * (context / inner), cy = h * (context / inner);
  const torch::Tensor dilated = torch::stack({r.select(1, 0), r.select(1, 1) - cx, r.select(1, 2) - cy,
                                              r.select(1, 1) + w + cx, r.select(1, 2) + h + cy}, 1);
  RoiAlignOptions ra;
  ra.output_height = ra.output_width = size;
  ra.spatial_scale = 1.0;
  ra.sampling_ratio = 1;  // one bilinear sample per output pixel: a plain warp
  ra.aligned = true;      // pixel centres at +0.5, as an image resize
  return roi_align(images, dilated, ra);
}

namespace {

constexpr const char* kWeightsFile = "cnn_crop.pt";

/// The warped-crop CNN as an RoiPooler: boxes -> dilated boxes -> size x size crops of the image -> CNN -> the
/// feature map's spatial mean. Registers the network as "cnn".
class CropNetwork final : public RoiPooler {
 public:
  explicit CropNetwork(const CnnCropOptions& o) : opts_(o) {
    cnn_ = register_module("cnn", make_backbone(o.backbone, o.backbone_options));
    const auto shapes = cnn_->output_shape();
    feature_ = o.feature.empty() ? features_by_stride(shapes).back() : o.feature;
    TORCH_CHECK(shapes.count(feature_), "cnn_crop: the backbone has no map '", feature_, "'");
    channels_ = shapes.at(feature_).channels;
  }

  torch::Tensor forward(const std::map<std::string, torch::Tensor>&, const torch::Tensor& images,
                        const std::vector<torch::Tensor>& boxes, const std::vector<ImageSize>& image_sizes) override {
    TORCH_CHECK(images.defined() && images.size(0) == static_cast<int64_t>(boxes.size()),
                "cnn_crop: one box list per image");
    const torch::Tensor rois = boxes_to_rois(boxes).to(images.scalar_type());
    if (rois.size(0) == 0) return torch::zeros({0, channels_}, images.options());
    std::vector<torch::Tensor> out;
    const int64_t n = rois.size(0), step = is_training() ? n : std::max<int64_t>(1, opts_.chunk);
    for (int64_t i = 0; i < n; i += step) {
      const torch::Tensor crops = warp_regions(images, rois.slice(0, i, std::min(n, i + step)), opts_.size, opts_.context);
      out.push_back(cnn_->forward(crops).at(feature_).mean({2, 3}));
    }
    return out.size() == 1 ? out[0] : torch::cat(out, 0);
  }

  std::vector<int64_t> output_shape() const override { return {channels_}; }
  std::vector<std::string> featmap_names() const override { return {}; }

  /// The map whose spatial mean forward() returns, for each RoI (K x 5): K x C x h x w.
  torch::Tensor region_maps(const torch::Tensor& images, const torch::Tensor& rois) {
    return cnn_->forward(warp_regions(images, rois.to(images.scalar_type()), opts_.size, opts_.context)).at(feature_);
  }

 private:
  CnnCropOptions opts_;
  std::shared_ptr<Backbone> cnn_;
  std::string feature_;
  int64_t channels_ = 0;
};

class CnnCropStage final : public FeatureStage, public TorchFeatureStage, public CellDecomposable {
 public:
  explicit CnnCropStage(const CnnCropOptions& o) : opts_(o) {
    net_ = std::make_shared<CropNetwork>(o);
    net_->eval();
  }

  std::string_view name() const override { return "cnn_crop"; }
  std::shared_ptr<RoiPooler> pooler() const override { return net_; }
  std::optional<TransformOptions> own_transform() const override { return opts_.input; }
  std::optional<RoiHeadsOptions> fine_tuning() const override {
    return opts_.fine_tune ? std::optional<RoiHeadsOptions>(opts_.fine_tune_sampling) : std::nullopt;
  }

  RegionFeatures extract(const ImageContext& ctx, const Proposals& proposals) override {
    torch::NoGradGuard no_grad;
    if (net_->is_training()) net_->eval();  // after training
    const std::shared_ptr<const FeatureMaps> fm = input_of(ctx);
    const int64_t d = net_->output_shape()[0];
    RegionFeatures f;
    f.host.create(static_cast<int>(proposals.size()), static_cast<int>(d), CV_32F);
    if (proposals.empty()) return f;
    const torch::Tensor v =
        net_->forward({}, fm->images, {boxes_to_network(proposals, *fm)}, {fm->image_size()}).to(torch::kCPU).contiguous();
    std::copy(v.data_ptr<float>(), v.data_ptr<float>() + v.numel(), f.host.ptr<float>());
    return f;
  }

  /// The crop's map cells: contribution (i, j) = weight . map[:, i, j] / (h w), whose sum is weight . the
  /// averaged map (the descriptor); the cells tile the dilated box the crop was warped from.
  RegionCells decompose(const ImageContext& ctx, const Proposal& proposal, int group,
                        const std::vector<float>& weight) override {
    DETLAB_REQUIRE(group == 0, "cnn_crop has one feature group", group);
    DETLAB_REQUIRE(static_cast<int64_t>(weight.size()) == net_->output_shape()[0], "one weight per channel",
                   weight.size(), net_->output_shape()[0]);
    torch::NoGradGuard no_grad;
    if (net_->is_training()) net_->eval();
    const std::shared_ptr<const FeatureMaps> fm = input_of(ctx);
    const torch::Tensor box = boxes_to_network({proposal}, *fm);
    const torch::Tensor rois = boxes_to_rois({box});
    const torch::Tensor map = net_->region_maps(fm->images, rois)[0].to(torch::kCPU, torch::kFloat);  // C x h x w
    const torch::Tensor w = torch::tensor(weight, torch::kFloat).view({-1, 1, 1});
    const torch::Tensor cells = ((map * w).sum(0) / static_cast<double>(map.size(1) * map.size(2))).contiguous();
    RegionCells out;
    out.contributions = cv::Mat(static_cast<int>(cells.size(0)), static_cast<int>(cells.size(1)), CV_32F,
                                cells.data_ptr<float>()).clone();
    // warp_regions' dilation, back in image pixels.
    const Box& b = proposal.box;
    const double inner = static_cast<double>(opts_.size) - 2.0 * opts_.context;
    const float mx = static_cast<float>(std::max(1.0, double(b.x2 - b.x1) * fm->meta.scale_x) * opts_.context / inner /
                                        fm->meta.scale_x);
    const float my = static_cast<float>(std::max(1.0, double(b.y2 - b.y1) * fm->meta.scale_y) * opts_.context / inner /
                                        fm->meta.scale_y);
    out.grid = Box{b.x1 - mx, b.y1 - my, b.x2 + mx, b.y2 + my};
    return out;
  }

  void save(const std::filesystem::path& dir) const override { save_weights(*net_, (dir / kWeightsFile).string()); }

  void load(const std::filesystem::path& dir) override {
    const std::filesystem::path file = dir / kWeightsFile;
    load_module_weights(*net_, file, "network");
    net_->eval();
  }

 private:
  /// Crops come from the network input training used: the backbone stage's maps' input, else this stage's own.
  std::shared_ptr<const FeatureMaps> input_of(const ImageContext& ctx) const {
    DETLAB_REQUIRE(ctx.image != nullptr && !ctx.image->bgr.empty(), "cnn_crop needs an image");
    if (ctx.maps) return std::static_pointer_cast<const FeatureMaps>(ctx.maps);
    auto own = std::make_shared<FeatureMaps>();
    Batch b = make_eval_batch({ctx.image->bgr}, opts_.input);
    own->images = b.images.to(device());
    own->meta = b.meta[0];
    return own;
  }

  torch::Device device() const {
    const auto params = net_->parameters();
    return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  }

  CnnCropOptions opts_;
  std::shared_ptr<CropNetwork> net_;
};

}  // namespace

CnnCropOptions parse_cnn_crop(const Config& node) {
  CnnCropOptions o;
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    o.backbone = parse_backbone_type(b, o.backbone);
    o.backbone_options = parse_backbone_options(b);
    if (o.backbone_options.fpn) config_error(b, "fpn", "cnn_crop averages one map; an FPN adds nothing here");
  }
  o.feature = node.get<std::string>("feature", o.feature);
  o.size = node.get<int64_t>("size", o.size);
  o.context = node.get<double>("context", o.context);
  o.chunk = node.get<int64_t>("chunk", o.chunk);
  if (node.has("input")) o.input = parse_transform(node.child("input"));
  if (node.has("fine_tune")) {
    const Config f = node.child("fine_tune");
    if (f.is_scalar()) {
      o.fine_tune = f.as<bool>();
    } else {
      o.fine_tune = true;
      o.fine_tune_sampling = parse_roi_sampling(f, o.fine_tune_sampling);
    }
  }
  if (o.size < 8) config_error(node, "size", "must be >= 8");
  if (!(o.context >= 0 && 2 * o.context < o.size)) config_error(node, "context", "must be in [0, size / 2)");
  if (o.chunk <= 0) config_error(node, "chunk", "must be positive");
  return o;
}

std::unique_ptr<FeatureStage> make_cnn_crop(const CnnCropOptions& opts, BuildContext& ctx) {
  auto stage = std::make_unique<CnnCropStage>(opts);
  ctx.region_shape = stage->pooler()->output_shape();
  return stage;
}

void register_cnn_crop_stage(Registry<FeatureStage>& r) {
  r.add(
      "cnn_crop",
      [](const Config& c, BuildContext& b) {
        return with_config_errors(c, [&] { return make_cnn_crop(parse_cnn_crop(c), b); });
      },
      "each box warped with context to a fixed size, CNN, averaged map (R-CNN, Girshick et al. 2014)");
}

}  // namespace detlab
