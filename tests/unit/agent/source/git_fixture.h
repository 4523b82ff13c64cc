// Helpers for tests that build repositories with the real git.
#pragma once

#include <string>
#include <vector>

namespace keelson::source::testing {

// Runs `git -C dir args...` with a fixed identity and no signing, fails the
// current test when git fails, and returns stdout without the final newline.
std::string Git(const std::string& dir, const std::vector<std::string>& args);

// Writes `contents` to dir/relative, then `git add` + `git commit -m message`;
// returns the new commit id.
std::string CommitFile(const std::string& dir, const std::string& relative, const std::string& contents,
                       const std::string& message);

// `git init` (branch main) of a fresh working repository at dir.
void InitRepo(const std::string& dir);

}  // namespace keelson::source::testing
