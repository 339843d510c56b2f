// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval-proposals: recall at IoU 0.5 / 0.7 and AR@N of a config's proposal stage alone; optionally
// saves the proposals as a cache file for the precomputed stage.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "eval/proposal_recall.h"
#include "experiment/run_config.h"
#include "core/parallel.h"
#include "pipeline/runtime.h"
#include "pipeline/registries.h"
#include "proposals/proposal_file.h"

namespace detlab::cli {

namespace fs = std::filesystem;

int cmd_eval_proposals(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string config, split, save, out;
  int max_images = 0;
  po::options_description desc("detlab eval-proposals options");
  add_common_options(desc, common);
  desc.add_options()("config", po::value<std::string>(&config)->required(), "experiment config (YAML)")(
      "split", po::value<std::string>(&split)->default_value("test"), "train, val, test, all or a split name")(
      "max-images", po::value<int>(&max_images)->default_value(0), "first N images only (0 = all)")(
      "save", po::value<std::string>(&save), "write the proposals to this cache file (precomputed stage)")(
      "out,o", po::value<std::string>(&out), "folder for proposal_recall.json");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab eval-proposals CONFIG [--split test] [--save FILE] [--out DIR] [--threads N]\n\n"
                  "Runs detector.proposals of the config on every image of the split (images in parallel)\n"
                  "and reports recall at IoU 0.5 / 0.7 and AR@N, plus seconds per image. --save FILE writes\n"
                  "a proposal cache (e.g. --split all --save datasets/bccd/proposals/selective_search_fast.bin),\n"
                  "image by image through FILE.partial: a killed run started again continues where it stopped.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const RunConfig rc = load_run_config(config, common.overrides);
  const Config det = rc.root.child("detector");
  if (!det.has("proposals"))
    throw InputError(det.file(), det.child_path("proposals"), "the detector has no proposal stage");
  const Config node = det.child("proposals");
  BuildContext ctx;
  ctx.registries = &builtin_registries();
  ctx.class_names = rc.dataset.class_names;
  std::unique_ptr<ProposalStage> stage = ctx.registries->proposals.build(node, ctx);
  stage->fit(split_of(rc, "train"));  // learned window shapes (sliding_window: windows auto)

  Dataset gt = split_of(rc, split);
  if (max_images > 0 && static_cast<int>(gt.images.size()) > max_images) {
    std::vector<int> first(max_images);
    for (int i = 0; i < max_images; ++i) first[i] = i;
    gt = gt.subset(first);
  }
  if (gt.images.empty()) throw InputError(config, "dataset." + split, "the split has no images");
  const int n = static_cast<int>(gt.images.size());
  // --save writes each image's proposals as it is done (a killed run is resumed from <FILE>.partial: the
  // images already there are read back, not computed again), and the file appears when every image is in.
  std::unique_ptr<ProposalFileWriter> writer;
  if (!save.empty()) writer = std::make_unique<ProposalFileWriter>(save, node.dump());
  std::vector<ImageProposals> props(n);
  std::vector<double> seconds(n, 0.0);
  std::vector<char> computed(n, 1);
  const auto wall0 = std::chrono::steady_clock::now();
  {
    ProgressBar bar("proposals " + std::string(stage->name()) + " (" + split + ")", n, "img");
    std::optional<ScopedLibraryThreads> single;  // images run in parallel: no nested library pools
    if (resolve_threads(common.threads, n) > 1) single.emplace(1);
    parallel_for(n, common.threads, [&](int i, int) {
      const std::string& name = gt.images[i].name;
      if (writer && writer->done(name)) {
        const Boxes boxes = *writer->resumed_boxes(name);
        Proposals p;
        for (size_t k = 0; k < boxes.size(); ++k)  // rank order as the score, as the precomputed stage does
          p.push_back({boxes[k], 1.f - static_cast<float>(k) / static_cast<float>(boxes.size())});
        props[i] = {gt.images[i].id, std::move(p)};
        computed[i] = 0;
        bar.tick();
        return;
      }
      Image img{name, gt.load_image(i)};
      ImageContext ictx;
      ictx.image = &img;
      const auto t0 = std::chrono::steady_clock::now();
      props[i] = {gt.images[i].id, stage->propose(ictx)};
      seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (writer) {
        Boxes boxes;
        for (const Proposal& q : props[i].proposals) boxes.push_back(q.box);
        writer->add(name, boxes);
      }
      bar.tick();
    });
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  ProposalRecallOptions ro;
  const ProposalRecallResult r = evaluate_proposal_recall(gt, props, ro);
  double total = 0, count = 0;
  int timed = 0;
  for (int i = 0; i < n; ++i) {
    count += static_cast<double>(props[i].proposals.size());
    if (computed[i]) total += seconds[i], ++timed;
  }
  std::cout << "proposal stage: " << stage->name() << " on " << n << " images (" << split << "), " << r.num_gt
            << " ground-truth boxes\n"
            << format_proposal_recall(r) << std::fixed << std::setprecision(3)
            << "seconds per image: " << (timed ? total / timed : 0.0) << " (one image per thread; wall " << wall
            << " s on " << resolve_threads(common.threads, n) << " threads"
            << (timed < n ? "; " + std::to_string(n - timed) + " images read back from the partial file" : "")
            << "), proposals per image: " << std::setprecision(1) << count / n << "\n";

  if (!out.empty()) {
    nlohmann::json j;
    j["format_version"] = 1;
    j["stage"] = std::string(stage->name());
    j["config"] = node.dump();
    j["split"] = split;
    j["images"] = n;
    j["num_gt"] = r.num_gt;
    j["seconds_per_image"] = total / n;
    j["proposals_per_image"] = count / n;
    j["top_n"] = r.top_n;
    j["recall_50"] = r.recall_50;
    j["recall_70"] = r.recall_70;
    j["average_recall"] = r.average_recall;
    fs::create_directories(out);
    write_file_atomic(fs::path(out) / "proposal_recall.json", j.dump(2) + "\n");
  }
  if (writer) {
    writer->finish();
    std::cout << "wrote " << save << " (" << fs::file_size(save) << " bytes)\n";
  }
  return 0;
}

}  // namespace detlab::cli
