// The fixture the transport tests share: an upstream bare repository under
// <tmp>/repos/app.git with one commit on main, a work tree to push more
// from, and a SourceSpec builder for a URL that serves it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "agent/source/mirror.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/fake_clock.h"
#include "tests/unit/agent/source/git_fixture.h"

namespace keelson::source::testing {

class TransportFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    repos_ = dir_.path() + "/repos";
    upstream_ = repos_ + "/app.git";
    std::filesystem::create_directories(upstream_);
    work_ = dir_.path() + "/work";
    std::filesystem::create_directories(work_);
    InitRepo(work_);
    head_ = CommitFile(work_, "deploy.yaml", "replicas: 1\n", "first");
    Git(dir_.path(), {"init", "-q", "--bare", upstream_});
    Git(work_, {"push", "-q", upstream_, "main"});
  }

  // Commits one more change upstream; returns its id.
  std::string Push() {
    std::string id = CommitFile(work_, "deploy.yaml", "replicas: " + std::to_string(++pushes_ + 1) + "\n", "more");
    Git(work_, {"push", "-q", upstream_, "main"});
    return id;
  }

  SourceSpec Spec(const std::string& url, const std::string& name) {
    SourceSpec spec;
    spec.name = name;
    spec.url = url;
    spec.track = {Tracking::Kind::kBranch, "main"};
    spec.timeout = std::chrono::seconds(30);
    spec.max_attempts = 1;
    return spec;
  }

  keelson::testing::TempDir dir_;
  std::string repos_, upstream_, work_, head_;
  int pushes_ = 0;
  FakeClock clock_;
};

}  // namespace keelson::source::testing
