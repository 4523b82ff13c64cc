// `keelson render CHART ...`: renders a Helm chart as `helm template` does.
#include <fstream>
#include <ostream>
#include <sstream>

#include "agent/cli/cli.h"
#include "renderers/helm/chart.h"
#include "renderers/helm/renderer.h"
#include "renderers/helm/values.h"
#include "renderers/manifest/filesystem.h"

namespace keelson::cli {

namespace {

constexpr std::string_view kChartUsage =
    "usage: keelson render CHART [--release NAME] [--namespace NS] [-f values.yaml]...\n"
    "         [--set k=v]... [--set-string k=v]... [--set-file k=path]... [--include-crds]\n"
    "         [--skip-tests] [--kube-version V] [--api-versions G/V]...";

bool ReadWholeFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

int Fail(const Invocation& inv, const Error& e) {
  inv.err << "keelson: error: " << e.ToString() << "\n";
  return kExitUsage;
}

}  // namespace

int RunRenderChart(const Invocation& inv) {
  helm::RenderOptions options;
  std::string chart_dir;
  helm::Value user = helm::Value::NewMap();
  struct SetArg {
    enum Kind { kSet, kString, kFile } kind;
    std::string text;
  };
  std::vector<std::string> value_files;
  std::vector<SetArg> sets;
  const auto& a = inv.args;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string flag = a[i], value;
    bool inline_value = false;
    if (flag.starts_with("--") && flag.find('=') != std::string::npos) {
      value = flag.substr(flag.find('=') + 1);
      flag = flag.substr(0, flag.find('='));
      inline_value = true;
    }
    auto next = [&](std::string& out) {
      if (inline_value) {
        out = value;
        return true;
      }
      if (i + 1 >= a.size()) return false;
      out = a[++i];
      return true;
    };
    std::string v;
    if (flag == "--release" || flag == "--namespace" || flag == "-n" || flag == "-f" || flag == "--values" ||
        flag == "--set" || flag == "--set-string" || flag == "--set-file" || flag == "--kube-version" ||
        flag == "--api-versions" || flag == "-a") {
      if (!next(v)) return UsageError(inv, flag + " needs a value\n" + std::string(kChartUsage));
      if (flag == "--release") options.release_name = v;
      else if (flag == "--namespace" || flag == "-n") options.release_namespace = v;
      else if (flag == "-f" || flag == "--values") value_files.push_back(v);
      else if (flag == "--set") sets.push_back({SetArg::kSet, v});
      else if (flag == "--set-string") sets.push_back({SetArg::kString, v});
      else if (flag == "--set-file") sets.push_back({SetArg::kFile, v});
      else if (flag == "--kube-version") options.kube_version = v;
      else {
        std::size_t start = 0;
        while (true) {
          std::size_t comma = v.find(',', start);
          options.api_versions.push_back(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
    } else if (flag == "--include-crds") {
      options.include_crds = true;
    } else if (flag == "--skip-tests") {
      options.skip_tests = true;
    } else if (flag.starts_with("-")) {
      return UsageError(inv, "unknown flag " + flag + "\n" + std::string(kChartUsage));
    } else if (chart_dir.empty()) {
      chart_dir = flag;
    } else {
      return UsageError(inv, "render takes one chart directory\n" + std::string(kChartUsage));
    }
  }
  if (chart_dir.empty()) return UsageError(inv, std::string(kChartUsage));
  for (const auto& path : value_files) {
    std::string text;
    if (!ReadWholeFile(path, text)) return UsageError(inv, path + ": cannot read values file");
    auto parsed = helm::ParseValuesFile(text, path);
    if (!parsed.ok()) return Fail(inv, parsed.error());
    user = helm::MergeUserValues(user, *parsed);
  }
  for (const auto& s : sets) {
    Status st;
    if (s.kind == SetArg::kFile) {
      std::size_t eq = s.text.find('=');
      if (eq == std::string::npos) return UsageError(inv, "--set-file needs key=path, got " + s.text);
      std::string contents;
      if (!ReadWholeFile(s.text.substr(eq + 1), contents)) {
        return UsageError(inv, s.text.substr(eq + 1) + ": cannot read --set-file file");
      }
      st = helm::ApplySetValue(user, s.text.substr(0, eq), helm::Value::String(contents));
    } else {
      st = helm::ApplySet(user, s.text, s.kind == SetArg::kString ? helm::SetKind::kString : helm::SetKind::kTyped);
    }
    if (!st.ok()) {
      Error e = std::move(st).error();
      e.message = (s.kind == SetArg::kString ? "failed parsing --set-string data: " : "failed parsing --set data: ") + e.message;
      return Fail(inv, e);
    }
  }
  manifest::DiskFileSystem fs(chart_dir);
  auto chart = helm::LoadChart(fs, "");
  if (!chart.ok()) {
    Error e = std::move(chart).error();
    if (!e.where.file.empty()) e.where.file = chart_dir + "/" + e.where.file;
    return Fail(inv, e);
  }
  auto out = helm::RenderChart(**chart, user, options);
  if (!out.ok()) return Fail(inv, out.error());
  inv.out << *out;
  return kExitOk;
}

}  // namespace keelson::cli
