// Runs a program to completion for tests that compare with real peers
// (kubectl, git, ssh-keygen, ...).
#pragma once

#include <string>
#include <vector>

namespace keelson::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program could not be started or was killed
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. stdin is the given text. Environment is
// inherited. Kills the program after timeout_seconds.
ProcessResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                         const std::string& cwd = "", int timeout_seconds = 120);

// True when `name` is an executable on PATH.
bool HaveProgram(const std::string& name);

}  // namespace keelson::testing
