// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Registry<Base>: name -> builder(Config, BuildContext) for one stage kind, filled by explicit register_*() calls.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace detlab {

/// What a builder may need from components built before it (e.g. the backbone's output shapes). Defined by
/// the pipeline layer (pipeline/build_context.h); registries only pass it through.
struct BuildContext;

/// One registry per stage kind (proposals, features, classifiers, detectors, ...). Registration is explicit:
/// each folder has register.cpp with register_<kind>(Registry&), never static initializers (the linker drops
/// unreferenced objects of a static library, and their registrations with them).
///
/// thread safety: add() during start-up only; build() and names() may then run concurrently.
template <class Base>
class Registry {
 public:
  using Builder = std::function<std::unique_ptr<Base>(const Config&, BuildContext&)>;

  /// kind names the stage kind in messages ("proposal stage").
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// requires: name not registered yet.
  void add(const std::string& name, Builder builder, std::string summary = "") {
    DETLAB_REQUIRE(!builders_.count(name), "duplicate registration", kind_, name);
    builders_[name] = Entry{std::move(builder), std::move(summary)};
  }

  bool contains(const std::string& name) const { return builders_.count(name) != 0; }
  const std::string& kind() const { return kind_; }

  /// Registered names, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& kv : builders_) n.push_back(kv.first);
    return n;
  }
  /// One-line description given at registration.
  std::string summary(const std::string& name) const {
    auto it = builders_.find(name);
    return it == builders_.end() ? std::string() : it->second.summary;
  }

  /// Builds the component named by node["type"], then checks that every key of node was read.
  /// Unknown types and unknown keys throw InputError naming the file and the dotted path.
  std::unique_ptr<Base> build(const Config& node, BuildContext& ctx) const {
    const std::string type = node.get<std::string>("type");
    auto it = builders_.find(type);
    if (it == builders_.end()) {
      std::string known;
      for (const auto& kv : builders_) known += (known.empty() ? "" : ", ") + kv.first;
      throw InputError(node.file(), node.child_path("type"),
                       "unknown " + kind_ + " '" + type + "' (known: " + known + ")");
    }
    std::unique_ptr<Base> built = it->second.builder(node, ctx);
    node.expect_consumed();
    return built;
  }

 private:
  struct Entry {
    Builder builder;
    std::string summary;
  };
  std::string kind_;
  std::map<std::string, Entry> builders_;
};

}  // namespace detlab
