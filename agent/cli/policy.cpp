// `keelson policy check` and `keelson policy test`.
#include <ostream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"
#include "policies/engine/evaluate.h"
#include "policies/engine/fixtures.h"
#include "policies/engine/policy.h"
#include "policies/library/builtin.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/object.h"
#include "agent/config/environment.h"
#include "agent/reconcile/unit_renderer.h"

namespace keelson::cli {
namespace {

int InputError(const Invocation& inv, const Error& e) {
  inv.err << "keelson: error: " << e.ToString() << "\n";
  return kExitUsage;
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Renders a directory the way the agent renders a unit (a chart with Helm,
// a kustomization with Kustomize when this build has it, plain manifests
// otherwise), or reads one manifest file.
Result<manifest::ObjectList> ReadPath(const std::string& path) {
  manifest::DiskFileSystem as_dir(path);
  if (as_dir.Type("") == manifest::FileType::kDirectory) {
    config::UnitSpec unit;
    unit.name = "check";
    unit.release = "release-name";  // what `helm template` calls a release by default
    reconcile::BuiltinUnitRenderer renderer;
    Result<manifest::ObjectList> objects = renderer.Render(as_dir, unit);
    std::string prefix = path.ends_with("/") ? path : path + "/";
    if (!objects.ok()) {
      Error e = std::move(objects).error();
      if (!e.where.file.empty()) e.where.file = prefix + e.where.file;
      return e;
    }
    for (manifest::Object& o : *objects) o.origin.file = prefix + o.origin.file;
    return objects;
  }
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  manifest::DiskFileSystem parent(dir);
  if (parent.Type(base) != manifest::FileType::kFile) {
    return MakeError(ErrorCode::kNotFound, "no such file or directory", Location{path, 0, 0, {}});
  }
  Result<std::string> text = parent.ReadFile(base);
  if (!text.ok()) return std::move(text).error().InFile(path);
  return manifest::ParseObjects(*text, path);
}

int RunPolicyCheck(const Invocation& inv) {
  std::string policies_dir;
  policy::CheckContext context;
  bool builtin = true;
  std::vector<std::string> paths;
  for (std::size_t i = 1; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= inv.args.size()) return false;
      *out = inv.args[++i];
      return true;
    };
    if (a == "--policies") {
      if (!value(&policies_dir)) return UsageError(inv, "--policies needs a directory");
    } else if (a == "--env") {
      if (!value(&context.environment)) return UsageError(inv, "--env needs an environment name");
    } else if (a == "--unit") {
      if (!value(&context.unit)) return UsageError(inv, "--unit needs a unit name");
    } else if (a == "--no-builtin") {
      builtin = false;
    } else if (a.starts_with("-")) {
      return UsageError(inv, "unknown flag \"" + a + "\"; see `keelson help policy`");
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) return UsageError(inv, "policy check needs at least one PATH; see `keelson help policy`");

  policy::PolicySet policies;
  if (builtin) {
    if (Status s = policy::AddBuiltinPolicies(policies); !s) return InputError(inv, s.error());
  }
  if (!policies_dir.empty()) {
    manifest::DiskFileSystem fs(policies_dir);
    if (fs.Type("") != manifest::FileType::kDirectory) return UsageError(inv, policies_dir + ": not a directory");
    std::string label = policies_dir.ends_with("/") ? policies_dir : policies_dir + "/";
    if (Status s = policies.AddDirectory(fs, "", label); !s) return InputError(inv, s.error());
  }

  std::size_t objects = 0, denied = 0, warnings = 0, evaluations = 0;
  for (const std::string& path : paths) {
    Result<manifest::ObjectList> set = ReadPath(path);
    if (!set.ok()) return InputError(inv, set.error());
    objects += set->size();
    policy::CheckResult result = policy::CheckObjects(policies, *set, context);
    evaluations += result.evaluations;
    for (const policy::Violation& v : result.violations) {
      bool deny = v.severity == policy::Severity::kDeny;
      (deny ? denied : warnings) += 1;
      inv.out << v.origin.file << ":" << v.origin.line << ": " << v.policy << ": " << (deny ? "" : "warning: ")
              << OneLine(v.message) << "\n";
    }
  }
  inv.err << "policy check: " << objects << " objects, " << evaluations << " checks, " << denied << " denied, "
          << warnings << " warnings\n";
  return denied > 0 ? kExitCheckFailed : kExitOk;
}

int RunPolicyTest(const Invocation& inv) {
  if (inv.args.size() != 2 || inv.args[1].starts_with("-")) {
    return UsageError(inv, "policy test needs exactly one directory; see `keelson help policy`");
  }
  const std::string& dir = inv.args[1];
  manifest::DiskFileSystem fs(dir);
  if (fs.Type("") != manifest::FileType::kDirectory) return UsageError(inv, dir + ": not a directory");
  std::string label = dir.ends_with("/") ? dir : dir + "/";
  Result<policy::FixtureReport> report = policy::RunFixtures(fs, "", label);
  if (!report.ok()) return InputError(inv, report.error());
  for (const policy::FixtureOutcome& o : report->outcomes) {
    inv.out << (o.passed ? "ok   " : "FAIL ") << o.policy << " " << o.file;
    if (!o.passed) inv.out << ": " << OneLine(o.detail);
    inv.out << "\n";
  }
  std::size_t failures = report->failures();
  inv.out << report->policies << " policies, " << report->outcomes.size() << " fixtures, " << failures
          << " failed\n";
  return failures > 0 ? kExitCheckFailed : kExitOk;
}

}  // namespace

int RunPolicy(const Invocation& inv) {
  if (inv.args.empty()) return UsageError(inv, "policy needs a subcommand, check or test; see `keelson help policy`");
  if (inv.args[0] == "check") return RunPolicyCheck(inv);
  if (inv.args[0] == "test") return RunPolicyTest(inv);
  return UsageError(inv, "unknown policy subcommand \"" + inv.args[0] + "\"; expected check or test");
}

}  // namespace keelson::cli
