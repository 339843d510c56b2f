# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Parity fixture of DETR's head (transformer, sine positions, heads, matcher, set loss) for tv_export.py.
"""Registered into tv_export.EXPORTS as "detr_head" (see tv_export.py). DETR is not in torchvision, so the
reference is a transcription of the official implementation (facebookresearch/detr, Apache-2.0, Copyright (c)
Facebook, Inc. and its affiliates): models/transformer.py (Transformer, TransformerEncoderLayer.forward_post,
TransformerDecoderLayer.forward_post, TransformerDecoder with return_intermediate), models/position_encoding.py
(PositionEmbeddingSine, normalize=True), models/detr.py (DETR's head after the backbone, MLP, SetCriterion with the
'labels' and 'boxes' losses and aux_loss), models/matcher.py (HungarianMatcher with scipy's linear_sum_assignment),
util/box_ops.py. Only the backbone is left out: the fixture feeds a random feature map and its padding mask.

inputs.pt   features (N x C x h x w), mask (N x h x w bool), labels_<i> (T_i), boxes_<i> (T_i x 4 cxcywh)
outputs.pt  pos (N x d x h x w), hs (L x N x Q x d), memory (N x d x h x w), pred_logits (L x N x Q x K+1),
            pred_boxes (L x N x Q x 4), match_pred_<i> / match_tgt_<i> (last layer), and DETR's unweighted
            losses loss_ce, loss_bbox, loss_giou, loss_ce_<l>, ... (eval mode: no dropout)
"""
import copy
import math

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn

from tv_export import Export, register

D_MODEL, NHEAD, ENC, DEC, FF, QUERIES, CLASSES, IN_CHANNELS = 64, 4, 2, 3, 128, 12, 5, 32


# ---- util/box_ops.py -----------------------------------------------------------------------------------------
def box_cxcywh_to_xyxy(x):
    x_c, y_c, w, h = x.unbind(-1)
    return torch.stack([(x_c - 0.5 * w), (y_c - 0.5 * h), (x_c + 0.5 * w), (y_c + 0.5 * h)], dim=-1)


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter / union, union


def generalized_box_iou(boxes1, boxes2):
    iou, union = box_iou(boxes1, boxes2)
    lt = torch.min(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.max(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[:, :, 0] * wh[:, :, 1]
    return iou - (area - union) / area


# ---- models/position_encoding.py -----------------------------------------------------------------------------
class PositionEmbeddingSine(nn.Module):
    def __init__(self, num_pos_feats=64, temperature=10000, normalize=False, scale=None):
        super().__init__()
        self.num_pos_feats, self.temperature, self.normalize = num_pos_feats, temperature, normalize
        self.scale = 2 * math.pi if scale is None else scale

    def forward(self, x, mask):
        not_mask = ~mask
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        if self.normalize:
            eps = 1e-6
            y_embed = y_embed / (y_embed[:, -1:, :] + eps) * self.scale
            x_embed = x_embed / (x_embed[:, :, -1:] + eps) * self.scale
        dim_t = torch.arange(self.num_pos_feats, dtype=torch.float32, device=x.device)
        dim_t = self.temperature ** (2 * (dim_t // 2) / self.num_pos_feats)
        pos_x = x_embed[:, :, :, None] / dim_t
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
        return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)


# ---- models/transformer.py (normalize_before=False) ----------------------------------------------------------
def _get_clones(module, n):
    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward, dropout):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, src, src_key_padding_mask, pos):
        q = k = src + pos
        src2 = self.self_attn(q, k, value=src, key_padding_mask=src_key_padding_mask)[0]
        src = self.norm1(src + self.dropout1(src2))
        src2 = self.linear2(self.dropout(F.relu(self.linear1(src))))
        return self.norm2(src + self.dropout2(src2))


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward, dropout):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, tgt, memory, memory_key_padding_mask, pos, query_pos):
        q = k = tgt + query_pos
        tgt2 = self.self_attn(q, k, value=tgt)[0]
        tgt = self.norm1(tgt + self.dropout1(tgt2))
        tgt2 = self.multihead_attn(query=tgt + query_pos, key=memory + pos, value=memory,
                                   key_padding_mask=memory_key_padding_mask)[0]
        tgt = self.norm2(tgt + self.dropout2(tgt2))
        tgt2 = self.linear2(self.dropout(F.relu(self.linear1(tgt))))
        return self.norm3(tgt + self.dropout3(tgt2))


class TransformerEncoder(nn.Module):
    def __init__(self, layer, num_layers):
        super().__init__()
        self.layers = _get_clones(layer, num_layers)

    def forward(self, src, src_key_padding_mask, pos):
        output = src
        for layer in self.layers:
            output = layer(output, src_key_padding_mask=src_key_padding_mask, pos=pos)
        return output


class TransformerDecoder(nn.Module):
    def __init__(self, layer, num_layers, norm):
        super().__init__()
        self.layers = _get_clones(layer, num_layers)
        self.norm = norm

    def forward(self, tgt, memory, memory_key_padding_mask, pos, query_pos):
        output, intermediate = tgt, []
        for layer in self.layers:
            output = layer(output, memory, memory_key_padding_mask=memory_key_padding_mask, pos=pos,
                           query_pos=query_pos)
            intermediate.append(self.norm(output))
        output = self.norm(output)
        intermediate.pop()
        intermediate.append(output)
        return torch.stack(intermediate)


class Transformer(nn.Module):
    def __init__(self, d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout):
        super().__init__()
        self.encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout),
                                          num_encoder_layers)
        self.decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout),
                                          num_decoder_layers, nn.LayerNorm(d_model))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, src, mask, query_embed, pos_embed):
        bs, c, h, w = src.shape
        src = src.flatten(2).permute(2, 0, 1)
        pos_embed = pos_embed.flatten(2).permute(2, 0, 1)
        query_embed = query_embed.unsqueeze(1).repeat(1, bs, 1)
        mask = mask.flatten(1)
        tgt = torch.zeros_like(query_embed)
        memory = self.encoder(src, src_key_padding_mask=mask, pos=pos_embed)
        hs = self.decoder(tgt, memory, memory_key_padding_mask=mask, pos=pos_embed, query_pos=query_embed)
        return hs.transpose(1, 2), memory.permute(1, 2, 0).view(bs, c, h, w)


# ---- models/detr.py (after the backbone) ---------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, num_layers):
        super().__init__()
        self.num_layers = num_layers
        h = [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(nn.Linear(n, k) for n, k in zip([input_dim] + h, h + [output_dim]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = F.relu(layer(x)) if i < self.num_layers - 1 else layer(x)
        return x


class DetrHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = Transformer(D_MODEL, NHEAD, ENC, DEC, FF, dropout=0.1)
        self.class_embed = nn.Linear(D_MODEL, CLASSES + 1)
        self.bbox_embed = MLP(D_MODEL, D_MODEL, 4, 3)
        self.query_embed = nn.Embedding(QUERIES, D_MODEL)
        self.input_proj = nn.Conv2d(IN_CHANNELS, D_MODEL, kernel_size=1)
        self.position = PositionEmbeddingSine(D_MODEL // 2, normalize=True)

    def forward(self, features, mask):
        pos = self.position(features, mask)
        hs, memory = self.transformer(self.input_proj(features), mask, self.query_embed.weight, pos)
        return pos, hs, memory, self.class_embed(hs), self.bbox_embed(hs).sigmoid()


# ---- models/matcher.py and SetCriterion ----------------------------------------------------------------------
@torch.no_grad()
def hungarian_match(logits, boxes, targets, cost_class=1, cost_bbox=5, cost_giou=2):
    bs, num_queries = logits.shape[:2]
    out_prob = logits.flatten(0, 1).softmax(-1)
    out_bbox = boxes.flatten(0, 1)
    tgt_ids = torch.cat([v["labels"] for v in targets])
    tgt_bbox = torch.cat([v["boxes"] for v in targets])
    c = (cost_bbox * torch.cdist(out_bbox, tgt_bbox, p=1) - cost_class * out_prob[:, tgt_ids]
         - cost_giou * generalized_box_iou(box_cxcywh_to_xyxy(out_bbox), box_cxcywh_to_xyxy(tgt_bbox)))
    c = c.view(bs, num_queries, -1).cpu()
    sizes = [len(v["boxes"]) for v in targets]
    indices = [linear_sum_assignment(m[i]) for i, m in enumerate(c.split(sizes, -1))]
    return [(torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(j, dtype=torch.int64)) for i, j in indices]


def set_losses(logits, boxes, targets, indices, num_boxes, eos_coef=0.1):
    batch_idx = torch.cat([torch.full_like(src, i) for i, (src, _) in enumerate(indices)])
    src_idx = torch.cat([src for (src, _) in indices])
    empty_weight = torch.ones(CLASSES + 1)
    empty_weight[-1] = eos_coef
    target_classes_o = torch.cat([t["labels"][j] for t, (_, j) in zip(targets, indices)])
    target_classes = torch.full(logits.shape[:2], CLASSES, dtype=torch.int64)
    target_classes[(batch_idx, src_idx)] = target_classes_o
    loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, empty_weight)
    src_boxes = boxes[(batch_idx, src_idx)]
    target_boxes = torch.cat([t["boxes"][i] for t, (_, i) in zip(targets, indices)], dim=0)
    loss_bbox = F.l1_loss(src_boxes, target_boxes, reduction="none").sum() / num_boxes
    loss_giou = (1 - torch.diag(generalized_box_iou(box_cxcywh_to_xyxy(src_boxes),
                                                    box_cxcywh_to_xyxy(target_boxes)))).sum() / num_boxes
    return {"loss_ce": loss_ce, "loss_bbox": loss_bbox, "loss_giou": loss_giou}


@register("detr_head")
def export_detr_head() -> Export:
    model = DetrHead().eval()
    n, h, w = 2, 5, 7
    features = torch.randn(n, IN_CHANNELS, h, w)
    mask = torch.zeros(n, h, w, dtype=torch.bool)
    mask[1, 4:, :] = True  # image 1 fills 4 x 5 cells of the padded map
    mask[1, :, 5:] = True
    targets = []
    for t in (3, 2):
        centres = torch.rand(t, 2) * 0.6 + 0.2
        sizes = torch.rand(t, 2) * 0.3 + 0.05
        targets.append({"labels": torch.randint(0, CLASSES, (t,)), "boxes": torch.cat([centres, sizes], 1)})
    with torch.no_grad():
        pos, hs, memory, logits, boxes = model(features, mask)
        num_boxes = float(sum(len(t["labels"]) for t in targets))
        outputs = {"pos": pos, "hs": hs, "memory": memory, "pred_logits": logits, "pred_boxes": boxes}
        for layer in range(DEC):
            indices = hungarian_match(logits[layer], boxes[layer], targets)
            suffix = "" if layer == DEC - 1 else f"_{layer}"
            for k, v in set_losses(logits[layer], boxes[layer], targets, indices, num_boxes).items():
                outputs[k + suffix] = v
            if layer == DEC - 1:
                for i, (src, tgt) in enumerate(indices):
                    outputs[f"match_pred_{i}"] = src
                    outputs[f"match_tgt_{i}"] = tgt
    inputs = {"features": features, "mask": mask}
    for i, t in enumerate(targets):
        inputs[f"labels_{i}"] = t["labels"]
        inputs[f"boxes_{i}"] = t["boxes"]
    # The fixture's module: DETR's head keys only (transformer., class_embed., bbox_embed., query_embed., input_proj.).
    return Export(model, inputs, outputs)
