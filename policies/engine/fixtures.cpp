#include "policies/engine/fixtures.h"

#include <utility>

#include "policies/engine/evaluate.h"
#include "policies/engine/policy.h"
#include "renderers/manifest/object.h"

namespace keelson::policy {

using manifest::Node;

std::size_t FixtureReport::failures() const {
  std::size_t n = 0;
  for (const FixtureOutcome& o : outcomes) n += o.passed ? 0 : 1;
  return n;
}

namespace {

std::string Join(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}

struct Expectation {
  long violations = -1;  // -1: any number of at least one
  std::string message;
};

Status RunOne(const manifest::FileSystem& fs, const std::string& policy_dir, std::string_view label,
              FixtureReport& report) {
  std::string policy_path = Join(policy_dir, "policy.yaml");
  Result<std::string> text = fs.ReadFile(policy_path);
  if (!text.ok()) return std::move(text).error().InFile(std::string(label) + policy_path);
  PolicySet set;
  if (Status s = set.AddFile(*text, std::string(label) + policy_path); !s) return s;
  if (set.policies().size() != 1) {
    return MakeError(ErrorCode::kInvalidInput, "a policy directory holds exactly one policy",
                     Location{std::string(label) + policy_path, 0, 0, {}});
  }
  ++report.policies;
  const Policy base = set.policies()[0];
  std::string fixtures_dir = Join(policy_dir, "fixtures");
  Result<std::vector<manifest::DirEntry>> entries = fs.ListDirectory(fixtures_dir);
  if (!entries.ok()) {
    return MakeError(ErrorCode::kInvalidInput, "policy \"" + base.name + "\" has no fixtures directory",
                     Location{std::string(label) + fixtures_dir, 0, 0, {}});
  }
  bool saw_pass = false, saw_fail = false;
  for (const manifest::DirEntry& e : *entries) {
    if (e.type != manifest::FileType::kFile || (!e.name.ends_with(".yaml") && !e.name.ends_with(".yml"))) continue;
    bool expect_pass = e.name.starts_with("pass-");
    bool expect_fail = e.name.starts_with("fail-");
    std::string path = Join(fixtures_dir, e.name);
    std::string shown = std::string(label) + path;
    if (!expect_pass && !expect_fail) {
      return MakeError(ErrorCode::kInvalidInput, "fixture names start with pass- or fail-", Location{shown, 0, 0, {}});
    }
    (expect_pass ? saw_pass : saw_fail) = true;
    Result<std::string> body = fs.ReadFile(path);
    if (!body.ok()) return std::move(body).error().InFile(shown);
    Result<manifest::ObjectList> objects = manifest::ParseObjects(*body, shown);
    if (!objects.ok()) return std::move(objects).error();

    Policy policy = base;
    policy.enabled = true;
    CheckContext context;
    Expectation expect;
    manifest::ObjectList subjects;
    for (manifest::Object& o : *objects) {
      if (o.id.kind != "PolicyFixture" || o.id.group != "keelson.dev") {
        subjects.push_back(std::move(o));
        continue;
      }
      const Node& n = o.node;
      context.environment = n.GetString("environment");
      context.unit = n.GetString("unit");
      if (const Node* params = n.Find("parameters")) {
        if (!params->IsMapping()) {
          return MakeError(ErrorCode::kInvalidInput, "must be a mapping",
                           Location{shown, params->mark().line, params->mark().column, "parameters"});
        }
        for (const Node::Entry& p : params->entries()) policy.parameters.Set(p.key, p.value);
      }
      if (const Node* ex = n.Find("expect")) {
        if (const Node* v = ex->Find("violations"); v != nullptr && v->IsInt()) expect.violations = v->AsInt();
        expect.message = ex->GetString("message");
      }
    }
    PolicySet single;
    single.Put(std::move(policy));
    CheckResult result = CheckObjects(single, subjects, context);
    FixtureOutcome outcome;
    outcome.policy = base.name;
    outcome.file = shown;
    std::size_t errors = 0;
    for (const Violation& v : result.violations) errors += v.error ? 1 : 0;
    if (expect_pass) {
      outcome.passed = result.violations.empty();
      if (!outcome.passed) outcome.detail = "expected to pass, got: " + result.violations[0].message;
    } else if (result.violations.empty()) {
      outcome.detail = "expected a violation, got none (" + std::to_string(result.evaluations) + " objects checked)";
    } else if (errors > 0) {
      for (const Violation& v : result.violations) {
        if (v.error) {
          outcome.detail = "expected a violation, got an evaluation error: " + v.message;
          break;
        }
      }
    } else if (expect.violations >= 0 && result.violations.size() != static_cast<std::size_t>(expect.violations)) {
      outcome.detail = "expected " + std::to_string(expect.violations) + " violations, got " +
                       std::to_string(result.violations.size()) + ": " + result.violations[0].message;
    } else {
      outcome.passed = true;
      for (const Violation& v : result.violations) {
        if (!expect.message.empty() && v.message.find(expect.message) == std::string::npos) {
          outcome.passed = false;
          outcome.detail = "expected the message to contain \"" + expect.message + "\", got: " + v.message;
          break;
        }
      }
    }
    if (outcome.passed) {
      outcome.detail = result.violations.empty() ? "no violations"
                                                 : std::to_string(result.violations.size()) + " violation(s): " +
                                                       result.violations[0].message;
    }
    report.outcomes.push_back(std::move(outcome));
  }
  if (!saw_pass || !saw_fail) {
    return MakeError(ErrorCode::kInvalidInput,
                     "policy \"" + base.name + "\" needs at least one pass-*.yaml and one fail-*.yaml fixture",
                     Location{std::string(label) + fixtures_dir, 0, 0, {}});
  }
  return Status::Ok();
}

}  // namespace

Result<FixtureReport> RunFixtures(const manifest::FileSystem& fs, std::string_view dir, std::string_view label) {
  FixtureReport report;
  std::string root(dir);
  if (fs.Type(Join(root, "policy.yaml")) == manifest::FileType::kFile) {
    if (Status s = RunOne(fs, root, label, report); !s) return std::move(s).error();
    return report;
  }
  Result<std::vector<manifest::DirEntry>> entries = fs.ListDirectory(root);
  if (!entries.ok()) return std::move(entries).error();
  for (const manifest::DirEntry& e : *entries) {
    if (e.type != manifest::FileType::kDirectory || e.name.starts_with(".")) continue;
    std::string sub = Join(root, e.name);
    if (fs.Type(Join(sub, "policy.yaml")) != manifest::FileType::kFile) continue;
    if (Status s = RunOne(fs, sub, label, report); !s) return std::move(s).error();
  }
  if (report.policies == 0) {
    return MakeError(ErrorCode::kInvalidInput, "no policy.yaml here or in any subdirectory",
                     Location{std::string(label) + root, 0, 0, {}});
  }
  return report;
}

}  // namespace keelson::policy
