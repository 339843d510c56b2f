// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Weight files: reading PyTorch state dicts (torch.save of a dict, or TorchScript archives) and writing our own.
#pragma once

#include <torch/nn/module.h>

#include <stdexcept>
#include <string>

#include "nn/weights/state_dict.h"

namespace detlab {

// Formats read (both are zip archives; the reader tells them apart by the TorchScript "constants.pkl" record):
//  * pickled dict: Python `torch.save(dict(model.state_dict()), path)`. LibTorch 1.13's unpickler cannot rebuild
//    the OrderedDict that state_dict() returns (nor torchvision's downloadable .pth files, which are OrderedDicts),
//    so convert once in Python:
//        torch.save(dict(torch.load("resnet50-0676ba61.pth")), "resnet50.pt")
//    Python pickles a dict with exactly one entry with an opcode (SETITEM) that LibTorch 1.13 cannot read either;
//    every real state dict has more entries, and the error message says so when it happens.
//  * TorchScript: `torch.jit.save(torch.jit.script(model), path)` (its parameters and buffers are read, with the
//    module's names), or a scripted holder of a dict attribute named "tensors" (tests/nn/tv_export.py,
//    class TensorDict) for a state dict that is not a scriptable module.
// Written: save_state_dict() writes a pickled dict (torch::pickle_save), readable by `torch.load(path)` in Python
// and by read_state_dict(). Our weight files are plain state dicts without a version of their own: their format
// is PyTorch's, versioned by PyTorch; checkpoints that add training state carry a version (train/).

/// A weight file that cannot be read: what() is "<path>: <reason>" on one line.
class WeightFileError : public std::runtime_error {
 public:
  WeightFileError(const std::string& path, const std::string& reason)
      : std::runtime_error(path + ": " + reason), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

enum class WeightFileFormat { kPickledDict, kTorchScript };

/// requires: path exists and is a zip archive.  ensures: which of the two formats it holds.
WeightFileFormat detect_weight_format(const std::string& path);

/// Reads either format into name -> tensor (CPU). Throws WeightFileError naming the path and the reason (no
/// such file, legacy non-zip format, OrderedDict pickle with the conversion to apply, non-tensor values).
StateDict read_state_dict(const std::string& path);
StateDict read_pickled_state_dict(const std::string& path);
StateDict read_torchscript_state_dict(const std::string& path);  // weight_file_torchscript.cpp

/// Writes `state` (moved to CPU) as a pickled dict, atomically: a temporary file in the same folder renamed
/// onto `path`, so a failure never leaves a partial file. Throws std::filesystem::filesystem_error naming `path`
/// and the system's reason when it cannot be written (a full disk), WeightFileError when the rename fails.
void save_state_dict(const StateDict& state, const std::string& path);

/// read_state_dict + load_state_dict (the report's source is the path).
LoadReport load_weights(torch::nn::Module& module, const std::string& path, const LoadOptions& options = {});
/// save_state_dict(module_state_dict(module), path).
void save_weights(const torch::nn::Module& module, const std::string& path);

}  // namespace detlab
