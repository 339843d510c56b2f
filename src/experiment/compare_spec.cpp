// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Comparison spec parsing and the quick preset.
#include "experiment/compare_spec.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "config/config.h"
#include "core/error.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> string_list(const Config& parent, const std::string& key) {
  if (!parent.has(key)) return {};
  const Config node = parent.child(key);
  if (node.is_scalar()) return {node.as<std::string>()};
  return node.as<std::vector<std::string>>();
}

std::vector<uint64_t> read_seeds(const Config& parent, const std::string& key) {
  const Config node = parent.child(key);
  std::vector<uint64_t> seeds;
  if (node.is_scalar()) {
    // `seeds: 3` means seeds 0, 1, 2 (as --seeds 3 does for ablations).
    const int n = node.as<int>();
    if (n < 1) throw InputError(node.file(), node.path(), "must be >= 1 (a count) or a list of seeds");
    for (int i = 0; i < n; ++i) seeds.push_back(static_cast<uint64_t>(i));
  } else {
    for (int64_t s : node.as<std::vector<int64_t>>()) {
      if (s < 0) throw InputError(node.file(), node.path(), "seeds must be >= 0");
      seeds.push_back(static_cast<uint64_t>(s));
    }
    if (seeds.empty()) throw InputError(node.file(), node.path(), "needs at least one seed");
  }
  return seeds;
}

void read_plots(const Config& parent, CompareSpec& spec) {
  if (!parent.has("plots")) return;
  const Config p = parent.child("plots");
  spec.sample_images = p.get<int>("images", spec.sample_images);
  spec.proposal_images = p.get<int>("proposal_images", spec.proposal_images);
  if (spec.sample_images < 0) throw InputError(p.file(), p.child_path("images"), "must be >= 0");
  if (spec.proposal_images < 0) throw InputError(p.file(), p.child_path("proposal_images"), "must be >= 0");
  p.expect_consumed();
}

template <class Entry>
void check_unique(const std::vector<Entry>& entries, const Config& node) {
  std::map<std::string, std::string> slugs;
  for (const Entry& e : entries) {
    auto [it, fresh] = slugs.emplace(e.slug, e.label);
    if (!fresh)
      throw InputError(node.file(), node.path(),
                       "labels '" + it->second + "' and '" + e.label + "' both map to the folder name '" + e.slug +
                           "'; labels must differ in letters or digits");
  }
}

CompareSpec parse(const Config& root, const std::string& source, bool quick) {
  if (!root.is_map()) throw InputError(source, "", "a comparison spec must be a YAML map");
  static const std::set<std::string> known = {"name", "dataset", "eval", "set", "seeds", "entries",
                                              "proposals", "plots", "quick"};
  for (const std::string& k : root.keys())
    if (!known.count(k))
      throw InputError(root.file(), k,
                       "unknown key (expected name, dataset, eval, set, seeds, entries, proposals, plots, quick)");
  CompareSpec spec;
  spec.file = source;
  spec.resolved_yaml = root.dump();
  if (!root.has("name")) throw InputError(source, "name", "missing (the output folder results/runs/<name>)");
  spec.name = root.get<std::string>("name");
  if (spec.name.empty() || slugify(spec.name) != spec.name)
    throw InputError(root.file(), "name", "must be a folder name of lower-case letters, digits and '_' (got '" +
                                              spec.name + "')");
  if (root.has("dataset")) {
    const Config d = root.child("dataset");
    d.mark_consumed();  // read by each entry's run config
    spec.dataset_yaml = d.dump();
  }
  if (root.has("eval")) {
    const Config e = root.child("eval");
    e.mark_consumed();
    spec.eval_yaml = e.dump();
  }
  spec.set = string_list(root, "set");
  if (root.has("seeds")) spec.seeds = read_seeds(root, "seeds");
  read_plots(root, spec);

  if (!root.has("entries")) throw InputError(source, "entries", "missing (the detector configs to compare)");
  const Config entries = root.child("entries");
  if (!entries.is_sequence() || entries.size() == 0)
    throw InputError(entries.file(), entries.path(), "expected a non-empty list of {label, config, set, quick}");
  for (size_t i = 0; i < entries.size(); ++i) {
    const Config e = entries.at(i);
    if (!e.is_map()) throw InputError(e.file(), e.path(), "expected a map {label, config, set, quick}");
    CompareEntry ce;
    ce.label = e.get<std::string>("label");
    ce.config = e.get<std::string>("config");
    ce.set = string_list(e, "set");
    ce.quick = string_list(e, "quick");
    ce.slug = slugify(ce.label);
    ce.index = static_cast<int>(i);
    e.expect_consumed();
    spec.entries.push_back(ce);
  }
  check_unique(spec.entries, entries);

  if (root.has("proposals")) {
    const Config props = root.child("proposals");
    if (!props.is_sequence()) throw InputError(props.file(), props.path(), "expected a list of {label, config, set}");
    for (size_t i = 0; i < props.size(); ++i) {
      const Config p = props.at(i);
      ProposalEntry pe;
      pe.label = p.get<std::string>("label");
      pe.config = p.get<std::string>("config");
      pe.set = string_list(p, "set");
      pe.quick = string_list(p, "quick");
      pe.slug = slugify(pe.label);
      p.expect_consumed();
      spec.proposals.push_back(pe);
    }
    check_unique(spec.proposals, props);
  }

  if (root.has("quick")) {
    const Config q = root.child("quick");
    const std::vector<std::string> qset = string_list(q, "set");
    const std::vector<std::string> only = string_list(q, "only");
    const std::vector<std::string> only_props = string_list(q, "proposals");
    const bool has_seeds = q.has("seeds");
    const std::vector<uint64_t> qseeds = has_seeds ? read_seeds(q, "seeds") : std::vector<uint64_t>{};
    const int max_images = q.get<int>("max_images", 0);
    if (max_images < 0) throw InputError(q.file(), q.child_path("max_images"), "must be >= 0");
    for (const std::string& label : only)
      if (std::none_of(spec.entries.begin(), spec.entries.end(), [&](const CompareEntry& e) { return e.label == label; }))
        throw InputError(q.file(), q.child_path("only"), "'" + label + "' is not an entry label");
    for (const std::string& label : only_props)
      if (std::none_of(spec.proposals.begin(), spec.proposals.end(),
                       [&](const ProposalEntry& e) { return e.label == label; }))
        throw InputError(q.file(), q.child_path("proposals"), "'" + label + "' is not a proposals label");
    CompareSpec quick_plots;
    read_plots(q, quick_plots);
    q.expect_consumed();
    if (quick) {
      spec.quick = true;
      if (!only.empty())
        spec.entries.erase(std::remove_if(spec.entries.begin(), spec.entries.end(),
                                          [&](const CompareEntry& e) {
                                            return std::find(only.begin(), only.end(), e.label) == only.end();
                                          }),
                           spec.entries.end());
      if (q.has("proposals"))
        spec.proposals.erase(std::remove_if(spec.proposals.begin(), spec.proposals.end(),
                                            [&](const ProposalEntry& e) {
                                              return std::find(only_props.begin(), only_props.end(), e.label) ==
                                                     only_props.end();
                                            }),
                             spec.proposals.end());
      spec.max_images = max_images;
      spec.set.insert(spec.set.end(), qset.begin(), qset.end());
      if (has_seeds) spec.seeds = qseeds;
      if (q.has("plots")) {
        spec.sample_images = quick_plots.sample_images;
        spec.proposal_images = quick_plots.proposal_images;
      }
    }
  } else if (quick) {
    spec.quick = true;  // no preset: --quick runs the full spec (into the _quick folder)
  }
  root.expect_consumed();
  return spec;
}

std::vector<std::string> common_overrides(const CompareSpec& spec) {
  std::vector<std::string> o;
  if (!spec.dataset_yaml.empty()) o.push_back("dataset=" + spec.dataset_yaml);
  if (!spec.eval_yaml.empty()) o.push_back("eval=" + spec.eval_yaml);
  o.insert(o.end(), spec.set.begin(), spec.set.end());
  if (spec.max_images > 0) o.push_back("eval.max_images=" + std::to_string(spec.max_images));
  return o;
}

}  // namespace

std::string slugify(const std::string& label) {
  std::string out;
  bool pending = false;
  for (unsigned char c : label) {
    if (std::isalnum(c) && c < 128) {
      if (pending && !out.empty()) out += '_';
      pending = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      pending = true;
    }
  }
  return out.empty() ? "entry" : out;
}

std::vector<std::string> CompareSpec::overrides_for(const CompareEntry& e, const std::vector<std::string>& extra) const {
  std::vector<std::string> o = common_overrides(*this);
  o.insert(o.end(), e.set.begin(), e.set.end());
  if (quick) o.insert(o.end(), e.quick.begin(), e.quick.end());
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

std::vector<std::string> CompareSpec::overrides_for(const ProposalEntry& e, const std::vector<std::string>& extra) const {
  std::vector<std::string> o;
  if (!dataset_yaml.empty()) o.push_back("dataset=" + dataset_yaml);
  if (!eval_yaml.empty()) o.push_back("eval=" + eval_yaml);
  // The spec-wide `set` targets the detectors (training schedules); of it only eval.max_images concerns
  // proposal stages, and that is what proposal_images overrides anyway.
  if (max_images > 0) o.push_back("eval.max_images=" + std::to_string(max_images));
  o.insert(o.end(), e.set.begin(), e.set.end());
  if (quick) o.insert(o.end(), e.quick.begin(), e.quick.end());
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

CompareSpec load_compare_spec(const fs::path& file, bool quick) {
  if (!fs::exists(file)) throw InputError(file.string(), "", "not found");
  return parse(Config::load(file), file.string(), quick);
}

CompareSpec parse_compare_spec(const std::string& yaml, bool quick, const std::string& source) {
  return parse(Config::parse(yaml, source), source, quick);
}

}  // namespace detlab
