// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// PeerProcess: the benchmarks' peer (a Python script timing torchvision / OpenCV) as a child process that
// answers line commands on its stdin with "ok <words>" / "error ..." lines on its stdout.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace detlab::bench {

class PeerProcess {
 public:
  /// `name` prefixes the messages about replies that are not "ok".
  explicit PeerProcess(std::string name) : name_(std::move(name)) {}
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  /// Starts `python script`; false when the pipes or the fork fail (the exec failing shows as a failed ask()).
  bool start(const std::string& python, const std::string& script) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return false;
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      dup2(to_child[0], STDIN_FILENO);
      dup2(from_child[1], STDOUT_FILENO);
      close(to_child[1]);
      close(from_child[0]);
      execl(python.c_str(), python.c_str(), script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    out_ = fdopen(to_child[1], "w");
    in_ = fdopen(from_child[0], "r");
    return out_ && in_;
  }

  /// Sends one command; returns the reply's words after "ok", or nothing (with a message) when the peer failed.
  std::optional<std::vector<std::string>> ask(const std::string& command) {
    if (!out_ || !in_) return std::nullopt;
    std::fprintf(out_, "%s\n", command.c_str());
    std::fflush(out_);
    std::string line;
    for (int c; (c = std::fgetc(in_)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
    std::istringstream words(line);
    std::string first;
    if (!(words >> first) || first != "ok") {
      std::cerr << name_ << ": peer replied '" << line << "' to '" << command << "'\n";
      return std::nullopt;
    }
    return std::vector<std::string>(std::istream_iterator<std::string>(words), {});
  }

  /// start(python, script), then ask(first_command) (the peer's "make": it writes the weights and inputs both
  /// sides use). On failure says so: without the peer there is nothing to compare.
  std::optional<std::vector<std::string>> start_and_ask(const std::string& python, const std::string& script,
                                                        const std::string& first_command) {
    std::optional<std::vector<std::string>> reply;
    if (start(python, script)) reply = ask(first_command);
    if (!reply) {
      std::cerr << name_ << ": the peer (" << python << " " << script
                << ") did not start; it makes the weights and inputs, so there is nothing to compare\n";
    }
    return reply;
  }

  ~PeerProcess() {
    if (out_) {
      std::fprintf(out_, "quit\n");
      std::fclose(out_);
    }
    if (in_) std::fclose(in_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }

 private:
  std::string name_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  FILE* in_ = nullptr;
};

}  // namespace detlab::bench
