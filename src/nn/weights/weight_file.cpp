// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Pickled state dicts: format detection, reading, atomic writing (see weight_file.h).
#include "nn/weights/weight_file.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace detlab {
namespace {

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw WeightFileError(path, "cannot open the file");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw WeightFileError(path, "read error");
  return data;
}

bool is_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw WeightFileError(path, "cannot open the file");
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

const char* kConvertHint =
    "save a plain dict in Python: torch.save(dict(model.state_dict()), path), or convert a downloaded file with "
    "torch.save(dict(torch.load(src)), dst)";

}  // namespace

WeightFileFormat detect_weight_format(const std::string& path) {
  if (!std::filesystem::exists(path)) throw WeightFileError(path, "no such file");
  if (!is_zip(path)) {
    throw WeightFileError(path, std::string("not a zip archive (PyTorch's legacy torch.save format or not a "
                                            "PyTorch file); re-save it with a current torch.save: ") +
                                    kConvertHint);
  }
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.hasRecord("constants.pkl") ? WeightFileFormat::kTorchScript : WeightFileFormat::kPickledDict;
  } catch (const c10::Error& e) {
    throw WeightFileError(path, std::string("unreadable PyTorch archive: ") + e.what_without_backtrace());
  }
}

StateDict read_pickled_state_dict(const std::string& path) {
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(read_bytes(path));
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    // Python pickles a dict of exactly one entry with SETITEM (opcode 's' = 0x73), which LibTorch 1.13's
    // unpickler does not know; larger dicts use SETITEMS.
    const bool one_entry = msg.find("Unknown opcode") != std::string::npos && msg.find(": 115") != std::string::npos;
    throw WeightFileError(path, "cannot unpickle (" + msg + "); " +
                                    (one_entry ? std::string("a dict with a single entry? LibTorch cannot read those: "
                                                             "save at least two entries or use TorchScript")
                                               : std::string(kConvertHint)));
  }
  if (!value.isGenericDict()) {
    // LibTorch's unpickler turns collections.OrderedDict into None (it only expects it inside tensors).
    const std::string what = value.isNone() ? "an OrderedDict (or None)" : value.tagKind();
    throw WeightFileError(path, "expected a dict of name -> tensor, found " + what + "; " + kConvertHint);
  }
  StateDict out;
  for (const auto& kv : value.toGenericDict()) {
    if (!kv.key().isString()) throw WeightFileError(path, "a key of the dict is not a string: " + kv.key().tagKind());
    const std::string key = kv.key().toStringRef();
    if (!kv.value().isTensor()) {
      throw WeightFileError(path, "value of '" + key + "' is " + kv.value().tagKind() +
                                      ", not a tensor (a checkpoint with more than a state dict?)");
    }
    out[key] = kv.value().toTensor();
  }
  return out;
}

StateDict read_state_dict(const std::string& path) {
  return detect_weight_format(path) == WeightFileFormat::kTorchScript ? read_torchscript_state_dict(path)
                                                                       : read_pickled_state_dict(path);
}

void save_state_dict(const StateDict& state, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& kv : state) {
    TORCH_CHECK(kv.second.defined(), "save_state_dict: '", kv.first, "' is an undefined tensor");
    dict.insert(kv.first, kv.second.detach().cpu());
  }
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));

  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  // A failed write (a full disk, a read-only folder) is a filesystem_error naming the file and the system's
  // reason, which the commands report in one line; the temporary file is removed.
  auto write_error = [&](int err) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw fs::filesystem_error("cannot write", target, std::error_code(err != 0 ? err : EIO, std::generic_category()));
  };
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) write_error(errno);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    int err = out ? 0 : errno;
    if (out) {
      errno = 0;
      out.close();
      err = errno;
    }
    if (!out) write_error(err);
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw WeightFileError(path, "cannot rename the temporary file onto it: " + ec.message());
  }
}

LoadReport load_weights(torch::nn::Module& module, const std::string& path, const LoadOptions& options) {
  return load_state_dict(module, read_state_dict(path), options, path);
}

void save_weights(const torch::nn::Module& module, const std::string& path) {
  save_state_dict(module_state_dict(module), path);
}

}  // namespace detlab
