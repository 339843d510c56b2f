// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// code_identity: the include closure of a run's components over the build fingerprint.
#include "experiment/code_identity.h"

#include <set>
#include <sstream>
#include <unordered_map>

#include "core/hash.h"

namespace detlab {

namespace {

// Include edges the walk does not follow. The staged meta-architecture includes the joint trainer of torch
// stages (and through it the R-CNN family's networks) only to call it when such stages learn: a classical
// pipeline (HOG+SVM) never runs that code, and an edit to a network must not retrain it. Detectors whose torch
// stages learn name the trainer as a root instead (provenance.cpp).
constexpr std::pair<const char*, const char*> kOptionalIncludes[] = {
    {"detectors/staged.cpp", "detectors/rcnn_training.h"}};

bool optional_include(const std::string& from, const std::string& to) {
  for (const auto& [f, t] : kOptionalIncludes)
    if (from == f && to == t) return true;
  return false;
}

struct Graph {
  std::unordered_map<std::string, const SourceFile*> by_path;
  std::unordered_map<std::string, std::vector<std::string>> by_stem;  // "rpn" -> {"nn/heads/rpn.cpp", ...}
  /// A header's implementation files (see implements()).
  std::unordered_map<std::string, std::vector<std::string>> implementations;
};

bool is_source(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, ".cpp") == 0; }

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

/// Whether `cpp` implements `header`: it is the header's own .cpp (same stem), or it has no header of its own,
/// lives in the header's folder or below it, and includes it (data/voc.cpp implements data/formats.h,
/// nn/ops/cpu/nms_kernel.cpp implements nn/ops/nms.h). Registration files (register*.cpp, builtins.cpp) include
/// every component of their folder but implement none: a run's components are named by their types instead.
bool implements(const std::string& cpp, const std::string& header, bool has_own_header) {
  if (has_own_header) return cpp.substr(0, cpp.size() - 4) + ".h" == header;
  const std::string name = cpp.substr(cpp.rfind('/') + 1);
  if (name.rfind("register", 0) == 0 || name == "builtins.cpp") return false;
  const std::string dir = folder_of(cpp), hdir = folder_of(header);
  return dir == hdir || dir.rfind(hdir + "/", 0) == 0;
}

std::string stem_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t start = slash == std::string::npos ? 0 : slash + 1;
  const size_t dot = path.rfind('.');
  return path.substr(start, dot == std::string::npos || dot < start ? std::string::npos : dot - start);
}

const Graph& graph() {
  static const Graph g = [] {
    Graph out;
    for (const SourceFile& f : build_fingerprint().files) {
      out.by_path[f.path] = &f;
      out.by_stem[stem_of(f.path)].push_back(f.path);
    }
    for (const SourceFile& f : build_fingerprint().files) {
      const std::string path = f.path;
      if (!is_source(path)) continue;
      const std::string own_header = path.substr(0, path.size() - 4) + ".h";
      const bool own = out.by_path.count(own_header) > 0;
      if (own) out.implementations[own_header].push_back(path);
      std::istringstream includes(f.includes);
      for (std::string h; includes >> h;)
        if (h != own_header && implements(path, h, own)) out.implementations[h].push_back(path);
    }
    return out;
  }();
  return g;
}

}  // namespace

CodeIdentity code_identity(const std::vector<std::string>& roots) {
  const Graph& g = graph();
  std::set<std::string> seen;
  std::vector<std::string> todo;
  auto visit = [&](const std::string& path) {
    if (g.by_path.count(path) && seen.insert(path).second) todo.push_back(path);
  };
  for (const std::string& r : roots) visit(r);
  while (!todo.empty()) {
    const std::string path = todo.back();
    todo.pop_back();
    std::istringstream includes(g.by_path.at(path)->includes);
    for (std::string inc; includes >> inc;)
      if (!optional_include(path, inc)) visit(inc);
    const auto impl = g.implementations.find(path);
    if (impl != g.implementations.end())
      for (const std::string& cpp : impl->second) visit(cpp);
  }
  CodeIdentity id;
  Fnv1a h;
  for (const std::string& path : seen) {  // std::set: sorted, so the hash does not depend on the walk
    const char* file_hash = g.by_path.at(path)->hash;
    id.files[path] = file_hash;
    h.update(path).update(" ").update(file_hash).update("\n");
  }
  id.hash = h.hex();
  return id;
}

std::vector<std::string> component_files(const std::string& type) {
  const Graph& g = graph();
  const auto it = g.by_stem.find(type);
  return it == g.by_stem.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> changed_files(const std::map<std::string, std::string>& before,
                                       const std::map<std::string, std::string>& after) {
  std::vector<std::string> out;
  for (const auto& [path, hash] : after) {
    const auto it = before.find(path);
    if (it == before.end())
      out.push_back(path + " (new)");
    else if (it->second != hash)
      out.push_back(path + " (changed)");
  }
  for (const auto& [path, hash] : before)
    if (!after.count(path)) out.push_back(path + " (gone)");
  return out;
}

}  // namespace detlab
