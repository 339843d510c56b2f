// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// fit_torch_stages (see rcnn_training.h): the staged detector's torch modules trained as one FasterRCNN.
#include "detectors/rcnn_training.h"

#include <torch/types.h>

#include "core/error.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "nn/detection/faster_rcnn.h"
#include "core/parallel.h"
#include "pipeline/torch_stage.h"
#include "train/engine.h"

namespace detlab {

struct StagedTrainSettings {
  TrainOptions train;
};

std::shared_ptr<const StagedTrainSettings> parse_staged_training(const Config& node) {
  auto s = std::make_shared<StagedTrainSettings>();
  s->train = parse_train_options(node);
  return s;
}

namespace {

/// The joint network as the engine sees it. Without an RPN in the network, each image's proposals come from
/// `fixed` (image pixels, by dataset index) and are mapped into the batch's pixels (resize, flip).
class StagedTrainable final : public Trainable {
 public:
  StagedTrainable(std::shared_ptr<FasterRCNN> model, TransformOptions transform, const std::vector<Boxes>* fixed)
      : model_(std::move(model)), transform_(std::move(transform)), fixed_(fixed) {}

  torch::nn::Module& module() override { return *model_; }
  TransformOptions input_transform() const override { return transform_; }

  std::map<std::string, torch::Tensor> losses(const Batch& batch) override {
    std::vector<ImageSize> sizes;
    std::vector<NetTarget> targets;
    for (const ImageMeta& m : batch.meta) sizes.push_back({m.height, m.width});
    for (const TargetBoxes& t : batch.targets) targets.push_back({t.boxes, t.labels});
    if (!fixed_) return model_->losses(batch.images, sizes, targets);
    std::vector<torch::Tensor> proposals;
    for (const ImageMeta& m : batch.meta) {
      DETLAB_CHECK(m.index >= 0 && m.index < static_cast<int>(fixed_->size()), "batch image without proposals",
                   m.index);
      const Boxes& b = (*fixed_)[m.index];
      torch::Tensor t = torch::empty({static_cast<int64_t>(b.size()), 4}, torch::kFloat);
      float* p = t.data_ptr<float>();
      for (const Box& x : b) *p++ = x.x1, *p++ = x.y1, *p++ = x.x2, *p++ = x.y2;
      proposals.push_back(to_network(t, m).to(batch.images.device()));
    }
    return model_->losses_with_proposals(batch.images, sizes, targets, proposals);
  }

 private:
  std::shared_ptr<FasterRCNN> model_;
  TransformOptions transform_;
  const std::vector<Boxes>* fixed_;
};

/// The proposal stage's boxes for every training image (image pixels), computed once, in parallel.
std::vector<Boxes> training_proposals(ProposalStage& stage, const Dataset& train, int threads) {
  std::vector<Boxes> out(train.images.size());
  ProgressBar bar("proposals (" + std::string(stage.name()) + ")", static_cast<int64_t>(out.size()), "img");
  parallel_for(static_cast<int>(out.size()), threads, [&](int i, int) {
    Image img{train.images[i].name, train.load_image(i)};
    ImageContext ctx;
    ctx.image = &img;
    for (const Proposal& p : stage.propose(ctx))
      if (p.box.width() > 0 && p.box.height() > 0) out[i].push_back(p.box);
    bar.tick();
  });
  bar.finish();
  return out;
}

}  // namespace

bool fit_torch_stages(StagedParts& parts, const StagedTrainSettings* settings, const TrainContext& ctx,
                      const std::string& file, const std::string& path) {
  auto* tb = dynamic_cast<TorchBackboneStage*>(parts.backbone.get());
  auto* tp = dynamic_cast<TorchProposalStage*>(parts.proposals.get());
  auto* tf = dynamic_cast<TorchFeatureStage*>(parts.features.get());
  auto* tc = dynamic_cast<TorchClassifierStage*>(parts.classifier.get());
  const bool rpn_trains = tp != nullptr && tp->trainable();
  const bool head_trains = tc != nullptr && tf != nullptr;  // without torch features the head trains alone
  const bool pooler_learns = tf != nullptr && !tf->pooler()->parameters().empty();
  const bool fine_tune = !head_trains && pooler_learns && tf->fine_tuning().has_value();
  if (!rpn_trains && !head_trains && !fine_tune) return false;
  if (!settings)
    throw InputError(file, path + ".train",
                     "this pipeline has torch stages to train (rpn, fast_rcnn_head or cnn_crop fine-tuning): add a "
                     "`train` section (iterations or epochs, lr, batch_size, ...)");
  DETLAB_REQUIRE(ctx.train != nullptr, "TrainContext::train is required");

  // One network over the stages' own modules (shared, so the stages see the trained weights).
  const bool reads_maps = tf != nullptr && !tf->pooler()->featmap_names().empty() && (head_trains || fine_tune);
  std::shared_ptr<Backbone> backbone = tb && (rpn_trains || reads_maps) ? tb->backbone() : nullptr;
  RegionProposalNetwork rpn = rpn_trains ? tp->rpn() : RegionProposalNetwork(nullptr);
  RoIHeads heads(nullptr);
  if (head_trains) {
    heads = RoIHeads(tf->pooler(), tc->box_head(), tc->box_predictor(), tc->roi_heads_options());
  } else if (fine_tune) {
    // R-CNN's fine-tuning layer: a (K+1)-way softmax over the region vector, discarded afterwards.
    FastRcnnPredictorOptions p;
    int64_t d = 1;
    for (int64_t x : tf->pooler()->output_shape()) d *= x;
    p.in_channels = d;
    p.num_classes = parts.classifier->num_classes() + 1;
    p.box_regression = false;
    heads = RoIHeads(tf->pooler(), TwoMlpHead(nullptr), FastRcnnPredictor(p), *tf->fine_tuning());
  }
  auto model = std::make_shared<FasterRCNN>(backbone, rpn, rpn_trains ? tp->in_features() : std::vector<std::string>{},
                                            heads, std::vector<int64_t>{});
  TransformOptions transform;
  if (tb) {
    transform = tb->transform();
  } else if (tf && tf->own_transform()) {
    transform = *tf->own_transform();
  } else {
    throw InputError(file, path + ".backbone", "the torch stages need a backbone stage for their network input");
  }

  std::vector<Boxes> fixed;
  if (!heads.is_empty() && rpn.is_empty()) fixed = training_proposals(*parts.proposals, *ctx.train, ctx.threads);
  StagedTrainable trainable(model, transform, fixed.empty() ? nullptr : &fixed);
  model->to(torch::kCPU);  // the engine moves it to the training device
  train(trainable, *ctx.train, settings->train, make_engine_context(ctx));
  model->eval();
  if (head_trains) tc->mark_trained();
  return head_trains;
}

int64_t torch_stage_parameters(const StagedParts& parts) {
  int64_t n = 0;
  auto count = [&](const torch::nn::Module& m) {
    for (const auto& p : m.parameters()) n += p.numel();
  };
  if (const auto* tb = dynamic_cast<const TorchBackboneStage*>(parts.backbone.get())) count(*tb->backbone());
  if (const auto* tp = dynamic_cast<const TorchProposalStage*>(parts.proposals.get())) count(*tp->rpn());
  if (const auto* tf = dynamic_cast<const TorchFeatureStage*>(parts.features.get())) count(*tf->pooler());
  return n;
}

}  // namespace detlab
