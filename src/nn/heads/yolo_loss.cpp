// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO v1 targets (a per-object host loop: a handful of objects per image) and the vectorized loss.
#include "nn/heads/yolo_loss.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace detlab {

namespace {

float iou(const float* a, const float* b) {  // x1 y1 x2 y2
  const float iw = std::max(0.f, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const float ih = std::max(0.f, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const float inter = iw * ih;
  const float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? inter / uni : 0.f;
}

void check_pred(const at::Tensor& pred, int64_t num_boxes) {
  TORCH_CHECK(pred.dim() == 4 && pred.size(1) == pred.size(2) && num_boxes > 0 && pred.size(3) > 5 * num_boxes,
              "YOLO v1: predictions must be N x S x S x (5B + C) with B = ", num_boxes, " and C >= 1, got ",
              pred.sizes());
}

}  // namespace

YoloV1Targets build_yolo_v1_targets(const at::Tensor& pred, const std::vector<YoloTarget>& targets, int64_t num_boxes,
                                    const YoloV1LossOptions& opts) {
  check_pred(pred, num_boxes);
  const int64_t n = pred.size(0), s = pred.size(1), b_count = num_boxes, c_count = pred.size(3) - 5 * num_boxes;
  TORCH_CHECK(static_cast<int64_t>(targets.size()) == n, "YOLO v1: ", targets.size(), " targets for a batch of ", n);
  const at::Tensor p = pred.detach().to(at::kCPU, at::kFloat).contiguous();
  const float* pp = p.data_ptr<float>();
  const int64_t cell_stride = pred.size(3);

  at::Tensor responsible = at::zeros({n, s, s, b_count});
  at::Tensor box = at::zeros({n, s, s, b_count, 4});
  at::Tensor confidence = at::zeros({n, s, s, b_count});
  at::Tensor object_cell = at::zeros({n, s, s});
  at::Tensor classes = at::zeros({n, s, s, c_count});
  float* resp = responsible.data_ptr<float>();
  float* bx = box.data_ptr<float>();
  float* conf = confidence.data_ptr<float>();
  float* obj = object_cell.data_ptr<float>();
  float* cls = classes.data_ptr<float>();
  int64_t dropped = 0;

  for (int64_t i = 0; i < n; ++i) {
    const YoloTarget& t = targets[static_cast<size_t>(i)];
    const at::Tensor tb = t.boxes.to(at::kCPU, at::kFloat).reshape({-1, 4}).contiguous();
    const at::Tensor tl = t.labels.to(at::kCPU, at::kLong).contiguous();
    TORCH_CHECK(tl.numel() == tb.size(0), "YOLO v1: image ", i, " has ", tb.size(0), " boxes and ", tl.numel(),
                " labels");
    const float* boxes = tb.data_ptr<float>();
    const int64_t* labels = tl.data_ptr<int64_t>();
    std::vector<int64_t> order(static_cast<size_t>(tb.size(0)));
    std::iota(order.begin(), order.end(), 0);
    auto area = [&](int64_t k) { return (boxes[4 * k + 2] - boxes[4 * k]) * (boxes[4 * k + 3] - boxes[4 * k + 1]); };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) { return area(a) > area(c); });

    for (int64_t k : order) {
      const float* g = boxes + 4 * k;
      TORCH_CHECK(labels[k] >= 0 && labels[k] < c_count, "YOLO v1: label ", labels[k], " outside [0, ", c_count, ")");
      const float cx = 0.5f * (g[0] + g[2]), cy = 0.5f * (g[1] + g[3]);
      const float w = std::max(0.f, g[2] - g[0]), h = std::max(0.f, g[3] - g[1]);
      const int64_t col = std::clamp<int64_t>(static_cast<int64_t>(cx * s), 0, s - 1);
      const int64_t row = std::clamp<int64_t>(static_cast<int64_t>(cy * s), 0, s - 1);
      const int64_t cell = (i * s + row) * s + col;
      if (opts.one_object_per_cell && obj[cell] > 0) {
        ++dropped;
        continue;
      }
      // The cell's predictor with the highest IoU among those still free.
      const float* pc = pp + cell * cell_stride;
      int64_t best = -1;
      float best_iou = -1.f;
      for (int64_t j = 0; j < b_count; ++j) {
        if (resp[cell * b_count + j] > 0) continue;
        const float* q = pc + 5 * j;
        const float pcx = (static_cast<float>(col) + q[0]) / s, pcy = (static_cast<float>(row) + q[1]) / s;
        const float pw = q[2] * q[2], ph = q[3] * q[3];  // the network predicts square roots
        const float pb[4] = {pcx - pw / 2, pcy - ph / 2, pcx + pw / 2, pcy + ph / 2};
        const float v = iou(pb, g);
        if (v > best_iou) {
          best_iou = v;
          best = j;
        }
      }
      if (best < 0) {
        ++dropped;
        continue;
      }
      const int64_t pi = cell * b_count + best;
      resp[pi] = 1.f;
      bx[4 * pi + 0] = cx * s - static_cast<float>(col);
      bx[4 * pi + 1] = cy * s - static_cast<float>(row);
      bx[4 * pi + 2] = std::sqrt(w);
      bx[4 * pi + 3] = std::sqrt(h);
      conf[pi] = opts.rescore ? best_iou : 1.f;
      obj[cell] += 1.f;  // a count for now; normalised below
      cls[cell * c_count + labels[k]] += 1.f;
    }
  }
  // Class target: the distribution of the cell's objects (one-hot with a single object); object_cell -> 0/1.
  const at::Tensor counts = object_cell.clamp_min(1).unsqueeze(-1);
  classes.div_(counts);
  object_cell.clamp_max_(1);

  const at::Device device = pred.device();
  return {responsible.to(device), box.to(device),     confidence.to(device),
          object_cell.to(device), classes.to(device), dropped};
}

std::map<std::string, at::Tensor> yolo_v1_loss(const at::Tensor& pred, const YoloV1Targets& t, int64_t num_boxes,
                                               const YoloV1LossOptions& opts) {
  check_pred(pred, num_boxes);
  const int64_t n = pred.size(0), s = pred.size(1), b = num_boxes;
  using at::indexing::Slice;
  const at::Tensor boxes = pred.index({"...", Slice(0, 5 * b)}).reshape({n, s, s, b, 5});
  const at::Tensor cls = pred.index({"...", Slice(5 * b, at::indexing::None)});
  const at::Tensor coords = boxes.index({"...", Slice(0, 4)});
  const at::Tensor conf = boxes.select(-1, 4);
  const double inv_n = 1.0 / static_cast<double>(n);

  const at::Tensor coord_err = (coords - t.box).pow(2).sum(-1);
  std::map<std::string, at::Tensor> out;
  out["loss_coord"] = opts.lambda_coord * (t.responsible * coord_err).sum() * inv_n;
  out["loss_obj"] = (t.responsible * (conf - t.confidence).pow(2)).sum() * inv_n;
  out["loss_noobj"] = opts.lambda_noobj * ((1 - t.responsible) * conf.pow(2)).sum() * inv_n;
  out["loss_class"] = opts.lambda_class * (t.object_cell.unsqueeze(-1) * (cls - t.classes).pow(2)).sum() * inv_n;
  return out;
}

}  // namespace detlab
