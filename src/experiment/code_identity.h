// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Which code a run depends on: the source files reachable from its components, and one hash over them.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace detlab {

/// One source file under src/ as the build saw it.
struct SourceFile {
  const char* path;      ///< relative to src/ ("nn/backbones/resnet.cpp")
  const char* hash;      ///< 16 hex digits of the SHA-256 of its content
  const char* includes;  ///< its project includes (paths relative to src/), space-separated
};

/// What this binary was built from, written by code_fingerprint.cmake on every build: the git commit and dirty
/// flag of src/ at build time ("unknown" / false without git) and every source file under src/.
struct BuildFingerprint {
  const char* commit;
  bool dirty;
  std::vector<SourceFile> files;
};
const BuildFingerprint& build_fingerprint();

/// The code behind one run.
struct CodeIdentity {
  std::string hash;                          ///< 16 hex digits over the sorted (path, content hash) pairs
  std::map<std::string, std::string> files;  ///< path -> content hash
};

/// The files reachable from `roots` (paths relative to src/) through project includes, where a header also
/// brings its implementations (its own .cpp, and the .cpp files without a header of their own beside or below
/// it that include it: data/formats.h -> data/voc.cpp, data/coco.cpp, ...), and their combined hash. This is the static link
/// graph of the roots, approximated from the sources: editing any file in it changes the hash; editing a
/// file outside it (another family's network, the CLI) does not. One edge is left out on purpose: the staged
/// meta-architecture's include of the joint trainer of torch stages (see code_identity.cpp). Unknown roots
/// are ignored.
CodeIdentity code_identity(const std::vector<std::string>& roots);

/// The source files of a component type: every file whose stem is the type (registry names are file
/// stems, STYLE.md §4), e.g. "rpn" -> proposals/rpn.cpp, proposals/rpn.h, nn/heads/rpn.cpp, ...
std::vector<std::string> component_files(const std::string& type);

/// "nn/heads/rpn.cpp (changed)", "... (new)", "... (gone)": how `after` differs from `before`, by path.
std::vector<std::string> changed_files(const std::map<std::string, std::string>& before,
                                       const std::map<std::string, std::string>& after);

}  // namespace detlab
