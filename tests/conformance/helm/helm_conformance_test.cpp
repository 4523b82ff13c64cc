// Renders every case of the shared Helm corpus (../shared/conformance/helm)
// and compares with the reference output byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "renderers/helm/chart.h"
#include "renderers/helm/renderer.h"
#include "renderers/helm/values.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/subprocess.h"

namespace keelson::helm {
namespace {

namespace fs = std::filesystem;

// Measured: all 34 cases match. A regression below this fails the suite.
constexpr int kPassFloor = 34;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CaseSpec {
  std::string chart, release, ns, kube_version;
  std::vector<std::string> values, sets, api_versions;
  bool skip_tests = false, include_crds = false;
};

CaseSpec ReadCase(const fs::path& dir) {
  manifest::ParseOptions opts;
  opts.file = (dir / "case.yaml").string();
  auto node = manifest::ParseYaml(ReadText(dir / "case.yaml"), opts);
  CaseSpec c;
  if (!node.ok()) return c;
  auto list = [&](const char* key) {
    std::vector<std::string> out;
    if (const manifest::Node* n = node->Find(key); n && n->IsSequence()) {
      for (const auto& item : n->items()) out.push_back(item.ScalarText());
    }
    return out;
  };
  c.chart = node->GetString("chart");
  c.release = node->GetString("release");
  c.ns = node->GetString("namespace");
  if (const manifest::Node* kv = node->Find("kubeVersion")) c.kube_version = kv->ScalarText();
  c.values = list("values");
  c.sets = list("set");
  c.api_versions = list("apiVersions");
  if (const manifest::Node* b = node->Find("skipTests")) c.skip_tests = b->IsBool() && b->AsBool();
  if (const manifest::Node* b = node->Find("includeCRDs")) c.include_crds = b->IsBool() && b->AsBool();
  return c;
}

Result<std::string> RenderCase(const fs::path& corpus, const fs::path& dir, const CaseSpec& c) {
  Value user = Value::NewMap();
  for (const auto& v : c.values) {
    auto parsed = ParseValuesFile(ReadText(dir / v), v);
    if (!parsed.ok()) return std::move(parsed).error();
    user = MergeUserValues(user, *parsed);
  }
  for (const auto& s : c.sets) {
    Status st = ApplySet(user, s, SetKind::kTyped);
    if (!st.ok()) return std::move(st).error();
  }
  manifest::DiskFileSystem disk((corpus / "charts" / c.chart).string());
  auto chart = LoadChart(disk, "");
  if (!chart.ok()) return std::move(chart).error();
  RenderOptions options;
  options.release_name = c.release;
  options.release_namespace = c.ns;
  if (!c.kube_version.empty()) options.kube_version = c.kube_version;
  options.api_versions = c.api_versions;
  options.skip_tests = c.skip_tests;
  options.include_crds = c.include_crds;
  return RenderChart(**chart, user, options);
}

std::string FirstDifference(const std::string& got, const std::string& want) {
  std::istringstream a(got), b(want);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ha = static_cast<bool>(std::getline(a, la));
    bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "outputs differ only in the final newline";
    if (!ha || !hb || la != lb) {
      return "line " + std::to_string(line) + "\n    got:  " + (ha ? la : "<end of output>") +
             "\n    want: " + (hb ? lb : "<end of output>");
    }
  }
}

TEST(HelmConformance, CorpusCasesMatchReferenceOutput) {
  fs::path corpus = fs::path(KEELSON_SHARED_DIR) / "conformance" / "helm";
  ASSERT_TRUE(fs::is_directory(corpus / "cases")) << "corpus missing: " << corpus;
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(corpus / "cases")) {
    if (e.is_directory()) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  int passed = 0, failed = 0, errors = 0;
  std::string report;
  for (const auto& dir : cases) {
    CaseSpec spec = ReadCase(dir);
    std::string want = ReadText(dir / "expected.yaml");
    auto got = RenderCase(corpus, dir, spec);
    if (!got.ok()) {
      ++failed;
      ++errors;
      report += "  " + dir.filename().string() + ": error: " + got.error().ToString() + "\n";
      continue;
    }
    if (*got == want) {
      ++passed;
    } else {
      ++failed;
      report += "  " + dir.filename().string() + ": " + FirstDifference(*got, want) + "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n" << report;
  EXPECT_EQ(errors, 0) << "every corpus chart must render without an error";
  EXPECT_GE(passed, kPassFloor) << report;
}

// The same corpus through the command line, for one case with flags.
TEST(HelmConformance, KeelsonRenderCommandMatchesForOneCase) {
  fs::path corpus = fs::path(KEELSON_SHARED_DIR) / "conformance" / "helm";
  fs::path dir = corpus / "cases" / "helm-subchart-set";
  CaseSpec c = ReadCase(dir);
  std::vector<std::string> argv = {KEELSON_BINARY, "render", (corpus / "charts" / c.chart).string(), "--release",
                                   c.release, "--namespace", c.ns, "--kube-version", c.kube_version};
  for (const auto& v : c.values) argv.insert(argv.end(), {"-f", (dir / v).string()});
  if (c.include_crds) argv.push_back("--include-crds");
  auto r = testing::RunProgram(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadText(dir / "expected.yaml"));
}

}  // namespace
}  // namespace keelson::helm
