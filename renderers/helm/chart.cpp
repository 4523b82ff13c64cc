#include "renderers/helm/chart.h"

#include <fnmatch.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "renderers/helm/values.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

bool Chart::IsLibrary() const {
  std::string t = type;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t == "library";
}

std::string Chart::FullPath() const {
  if (parent == nullptr) return name;
  return parent->FullPath() + "/charts/" + name;
}

namespace {

struct IgnoreRule {
  std::string pattern;
  bool negate = false;
  bool dir_only = false;
  bool has_path = false;
};

std::vector<IgnoreRule> ParseIgnore(std::string_view data) {
  std::vector<IgnoreRule> rules;
  std::size_t start = 0;
  while (start <= data.size()) {
    std::size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    std::string line(data.substr(start, end - start));
    start = end + 1;
    auto b = line.find_first_not_of(" \t\r");
    auto e = line.find_last_not_of(" \t\r");
    line = b == std::string::npos ? "" : line.substr(b, e - b + 1);
    if (line.empty() || line[0] == '#' || line == "!") {
      if (end == data.size()) break;
      continue;
    }
    IgnoreRule r;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (!line.empty() && line[0] == '/') line.erase(0, 1);
    r.has_path = line.find('/') != std::string::npos || line.find("**") != std::string::npos;
    r.pattern = line;
    rules.push_back(r);
    if (end == data.size()) break;
  }
  return rules;
}

std::string BaseName(std::string_view p) {
  std::size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

bool Ignored(const std::vector<IgnoreRule>& rules, const std::string& rel, bool is_dir) {
  if (rel.empty() || rel == ".") return false;
  bool result = false;
  for (const auto& r : rules) {
    if (r.dir_only && !is_dir) continue;
    bool m;
    if (r.has_path) {
      m = fnmatch(r.pattern.c_str(), rel.c_str(), FNM_PATHNAME) == 0;
      if (!m && r.pattern.find("**") != std::string::npos) {
        std::string prefix = r.pattern.substr(0, r.pattern.find("**"));
        while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
        m = rel.starts_with(prefix);
      }
    } else {
      m = fnmatch(r.pattern.c_str(), BaseName(rel).c_str(), FNM_PATHNAME) == 0;
    }
    if (m) result = !r.negate;
  }
  return result;
}

bool IgnoredPath(const std::vector<IgnoreRule>& rules, const std::string& name) {
  for (std::size_t p = name.find('/'); p != std::string::npos; p = name.find('/', p + 1)) {
    if (Ignored(rules, name.substr(0, p), true)) return true;
  }
  return Ignored(rules, name, false);
}

std::string StripBom(std::string s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.erase(0, 3);
  return s;
}

// Whether the loader can leave a file unread: everything but its own
// inputs at the top of the chart, templates/ and subcharts.
bool ReadOnlyOnUse(std::string_view name) {
  static constexpr std::string_view kLoaderReads[] = {"Chart.yaml",        "values.yaml",       "values.schema.json",
                                                      "requirements.yaml", "requirements.lock", "Chart.lock",
                                                      ".helmignore"};
  if (name.starts_with("templates/") || name.starts_with("charts/")) return false;
  return std::find(std::begin(kLoaderReads), std::end(kLoaderReads), name) == std::end(kLoaderReads);
}

Status Walk(const manifest::FileSystem& fs, const std::string& root, const std::string& rel,
            const std::vector<IgnoreRule>& rules, std::vector<ChartFile>& out, const LoadLimits& limits) {
  std::string dir = rel.empty() ? root : (root.empty() ? rel : root + "/" + rel);
  auto entries = fs.ListDirectory(dir);
  if (!entries.ok()) return std::move(entries).error();
  for (const auto& e : *entries) {
    std::string child = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.type == manifest::FileType::kDirectory) {
      if (Ignored(rules, child, true)) continue;
      Status st = Walk(fs, root, child, rules, out, limits);
      if (!st.ok()) return st;
      continue;
    }
    if (Ignored(rules, child, false)) continue;
    if (out.size() >= limits.max_files) {
      return MakeError(ErrorCode::kLimitExceeded, "chart has more than " + std::to_string(limits.max_files) + " files");
    }
    std::string path = root.empty() ? child : root + "/" + child;
    if (ReadOnlyOnUse(child)) {
      out.push_back(ChartFile{child, {}, std::make_shared<DeferredFile>(fs, std::move(path))});
      continue;
    }
    auto data = fs.ReadFile(path);
    if (!data.ok()) return std::move(data).error();
    out.push_back(ChartFile{child, StripBom(std::move(data).value()), nullptr});
  }
  return Status::Ok();
}

std::string ScalarText(const Value& v) {
  if (v.IsNil()) return "";
  return v.IsString() ? v.AsString() : FormatValue(v);
}

Value StringListValue(const Value& v) {
  if (!v.IsList()) return Value();
  List out;
  for (const Value& item : v.AsList()) out.push_back(Value::String(ScalarText(item)));
  return Value::NewList(std::move(out));
}

// Chart.yaml/requirements.yaml fields onto the Go-named metadata map.
void ApplyMetadata(const Value& yaml, Map& meta, Chart& chart) {
  static const std::pair<const char*, const char*> kStrings[] = {
      {"name", "Name"}, {"home", "Home"}, {"version", "Version"}, {"description", "Description"},
      {"icon", "Icon"}, {"apiVersion", "APIVersion"}, {"condition", "Condition"}, {"tags", "Tags"},
      {"appVersion", "AppVersion"}, {"kubeVersion", "KubeVersion"}, {"type", "Type"}};
  const Map& m = yaml.AsMap();
  for (const auto& [key, field] : kStrings) {
    auto it = m.find(key);
    if (it != m.end()) meta[field] = Value::String(ScalarText(it->second));
  }
  if (auto it = m.find("sources"); it != m.end()) meta["Sources"] = StringListValue(it->second);
  if (auto it = m.find("keywords"); it != m.end()) meta["Keywords"] = StringListValue(it->second);
  if (auto it = m.find("deprecated"); it != m.end()) meta["Deprecated"] = Value::Bool(IsTrue(it->second));
  if (auto it = m.find("annotations"); it != m.end() && it->second.IsMap()) {
    Map ann;
    for (const auto& [k, v] : it->second.AsMap()) ann[k] = Value::String(ScalarText(v));
    meta["Annotations"] = Value::NewMap(std::move(ann));
  }
  if (auto it = m.find("maintainers"); it != m.end() && it->second.IsList()) {
    List out;
    for (const Value& item : it->second.AsList()) {
      Map mm;
      if (item.IsMap()) {
        for (const auto& [k, field] : {std::pair{"name", "Name"}, {"email", "Email"}, {"url", "URL"}}) {
          auto f = item.AsMap().find(k);
          mm[field] = Value::String(f == item.AsMap().end() ? "" : ScalarText(f->second));
        }
      }
      out.push_back(Value::NewMap(std::move(mm)));
    }
    meta["Maintainers"] = Value::NewList(std::move(out));
  }
  if (auto it = m.find("dependencies"); it != m.end() && it->second.IsList()) {
    chart.has_dependencies = true;
    chart.dependencies.clear();
    for (const Value& item : it->second.AsList()) {
      if (!item.IsMap()) continue;
      Dependency d;
      const Map& dm = item.AsMap();
      auto get = [&](const char* k) {
        auto f = dm.find(k);
        return f == dm.end() ? std::string() : ScalarText(f->second);
      };
      d.name = get("name");
      d.version = get("version");
      d.repository = get("repository");
      d.condition = get("condition");
      d.alias = get("alias");
      if (auto f = dm.find("tags"); f != dm.end() && f->second.IsList()) {
        for (const Value& t : f->second.AsList()) d.tags.push_back(ScalarText(t));
      }
      if (auto f = dm.find("import-values"); f != dm.end()) d.import_values = f->second;
      chart.dependencies.push_back(std::move(d));
    }
  }
  chart.name = meta.count("Name") ? meta["Name"].AsString() : "";
  chart.version = meta.count("Version") ? meta["Version"].AsString() : "";
  chart.api_version = meta.count("APIVersion") ? meta["APIVersion"].AsString() : "";
  chart.type = meta.count("Type") ? meta["Type"].AsString() : "";
  chart.kube_version = meta.count("KubeVersion") ? meta["KubeVersion"].AsString() : "";
}

Result<std::shared_ptr<Chart>> LoadFromFiles(std::vector<ChartFile> files, const LoadLimits& limits, int depth,
                                             const std::string& where);

Result<std::shared_ptr<Chart>> LoadArchive(std::string_view data, const LoadLimits& limits, int depth,
                                           const std::string& where) {
  auto files = ReadTarGz(data, limits);
  if (!files.ok()) return std::move(files).error();
  std::vector<ChartFile> inner;
  for (auto& f : *files) {
    std::size_t slash = f.name.find('/');
    if (slash == std::string::npos) continue;
    inner.push_back(ChartFile{f.name.substr(slash + 1), StripBom(std::move(f.data)), nullptr});
  }
  for (const auto& f : inner) {
    if (f.name == ".helmignore") {
      auto rules = ParseIgnore(f.data);
      std::vector<ChartFile> kept;
      for (auto& g : inner) {
        if (!IgnoredPath(rules, g.name)) kept.push_back(std::move(g));
      }
      inner = std::move(kept);
      break;
    }
  }
  return LoadFromFiles(std::move(inner), limits, depth, where);
}

Result<std::shared_ptr<Chart>> LoadFromFiles(std::vector<ChartFile> files, const LoadLimits& limits, int depth,
                                             const std::string& where) {
  if (depth > limits.max_subchart_depth) {
    return MakeError(ErrorCode::kLimitExceeded, "subcharts nested deeper than " + std::to_string(limits.max_subchart_depth),
                     Location{where, 0, 0, ""});
  }
  auto chart = std::make_shared<Chart>();
  std::sort(files.begin(), files.end(), [](const ChartFile& a, const ChartFile& b) { return a.name < b.name; });
  Map meta;
  bool have_meta = false;
  for (const auto& f : files) {
    if (f.name != "Chart.yaml") continue;
    auto y = ParseValuesFile(f.data, where + "Chart.yaml");
    if (!y.ok()) return std::move(y).error();
    ApplyMetadata(*y, meta, *chart);
    have_meta = true;
  }
  if (!have_meta) {
    return MakeError(ErrorCode::kInvalidInput, "Chart.yaml file is missing", Location{where + "Chart.yaml", 0, 0, ""});
  }
  if (chart->api_version.empty()) {
    chart->api_version = "v1";
    meta["APIVersion"] = Value::String("v1");
  }
  std::map<std::string, std::vector<ChartFile>> sub;
  std::vector<std::string> sub_order;
  for (auto& f : files) {
    if (f.name == "values.schema.json") {
      chart->schema = std::move(f.data);
      continue;
    }
    if (f.name == "Chart.yaml" || f.name == "Chart.lock") continue;
    if (f.name == "requirements.lock") {
      if (chart->api_version == "v1") chart->files.push_back(f);
      continue;
    }
    if (f.name == "values.yaml") {
      auto v = ParseValuesFile(f.data, where + "values.yaml");
      if (!v.ok()) return std::move(v).error();
      chart->values = std::move(v).value();
      continue;
    }
    if (f.name == "requirements.yaml") {
      auto y = ParseValuesFile(f.data, where + "requirements.yaml");
      if (!y.ok()) return std::move(y).error();
      ApplyMetadata(*y, meta, *chart);
      if (chart->api_version == "v1") chart->files.push_back(f);
      continue;
    }
    if (f.name.starts_with("templates/")) {
      chart->templates.push_back(std::move(f));
      continue;
    }
    if (f.name.starts_with("charts/")) {
      if (f.name.ends_with(".prov")) {
        chart->files.push_back(std::move(f));
        continue;
      }
      std::string rest = f.name.substr(7);
      std::string n = rest.substr(0, rest.find('/'));
      if (!sub.count(n)) sub_order.push_back(n);
      sub[n].push_back(ChartFile{rest, std::move(f.data), nullptr});
      continue;
    }
    chart->files.push_back(std::move(f));
  }
  if (chart->values.IsNil()) chart->values = Value::NewMap();
  std::string label = where + "Chart.yaml";
  if (chart->name.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "validation: chart.metadata.name is required", Location{label, 0, 0, "name"});
  }
  if (chart->version.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "validation: chart.metadata.version is required", Location{label, 0, 0, "version"});
  }
  if (!chart->type.empty() && chart->type != "application" && chart->type != "library") {
    return MakeError(ErrorCode::kInvalidInput, "validation: chart.metadata.type must be application or library",
                     Location{label, 0, 0, "type"});
  }
  chart->metadata = Value::NewMap(std::move(meta));
  for (const auto& n : sub_order) {
    if (n.empty() || n[0] == '_' || n[0] == '.') continue;
    auto& fs = sub[n];
    Result<std::shared_ptr<Chart>> sc = MakeError(ErrorCode::kInternal, "");
    std::string sub_where = where + "charts/" + n + "/";
    if (n.size() > 4 && n.ends_with(".tgz")) {
      sc = LoadArchive(fs[0].data, limits, depth + 1, sub_where);
    } else {
      std::vector<ChartFile> inner;
      for (auto& f : fs) {
        std::size_t slash = f.name.find('/');
        if (slash == std::string::npos) continue;
        inner.push_back(ChartFile{f.name.substr(slash + 1), std::move(f.data), nullptr});
      }
      sc = LoadFromFiles(std::move(inner), limits, depth + 1, sub_where);
    }
    if (!sc.ok()) {
      Error e = std::move(sc).error();
      e.message = "error unpacking subchart " + n + " in " + chart->name + ": " + e.message;
      return e;
    }
    (*sc)->parent = chart.get();
    chart->subcharts.push_back(std::move(sc).value());
  }
  return chart;
}

std::uint64_t ParseOctal(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && p[i]; ++i) {
    if (p[i] == ' ') continue;
    if (p[i] < '0' || p[i] > '7') break;
    v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
  }
  return v;
}

}  // namespace

Result<std::vector<ChartFile>> ReadTarGz(std::string_view data, const LoadLimits& limits) {
  // Inflate the whole gzip stream first (concatenated members allowed).
  std::string tar;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return MakeError(ErrorCode::kInternal, "zlib: cannot initialise");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char buf[65536];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    tar.append(buf, sizeof buf - zs.avail_out);
    if (tar.size() > limits.max_archive_bytes) {
      inflateEnd(&zs);
      return MakeError(ErrorCode::kLimitExceeded, "archive expands beyond " + std::to_string(limits.max_archive_bytes) + " bytes");
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&zs);
      return MakeError(ErrorCode::kInvalidInput, "gzip: invalid archive data");
    }
  }
  inflateEnd(&zs);

  std::vector<ChartFile> files;
  std::size_t pos = 0;
  std::string long_name;
  std::string pax_path;
  while (pos + 512 <= tar.size()) {
    const char* h = tar.data() + pos;
    bool zero = std::all_of(h, h + 512, [](char c) { return c == 0; });
    if (zero) break;
    std::string name(h, strnlen(h, 100));
    std::string prefix(h + 345, strnlen(h + 345, 155));
    if (std::memcmp(h + 257, "ustar", 5) == 0 && !prefix.empty()) name = prefix + "/" + name;
    std::uint64_t size = ParseOctal(h + 124, 12);
    char type = h[156];
    pos += 512;
    if (size > tar.size() - pos) return MakeError(ErrorCode::kInvalidInput, "tar: truncated archive");
    std::string body = tar.substr(pos, static_cast<std::size_t>(size));
    pos += static_cast<std::size_t>((size + 511) / 512 * 512);
    if (type == 'L') {
      long_name = std::string(body.c_str());
      continue;
    }
    if (type == 'x') {
      // PAX records: "len key=value\n".
      std::size_t p = 0;
      while (p < body.size()) {
        std::size_t sp = body.find(' ', p);
        if (sp == std::string::npos) break;
        std::size_t len = std::strtoul(body.c_str() + p, nullptr, 10);
        if (len == 0 || p + len > body.size()) break;
        std::string rec = body.substr(sp + 1, p + len - sp - 2);
        if (rec.starts_with("path=")) pax_path = rec.substr(5);
        p += len;
      }
      continue;
    }
    if (type == 'g') continue;
    if (!long_name.empty()) name = long_name;
    if (!pax_path.empty()) name = pax_path;
    long_name.clear();
    pax_path.clear();
    if (type != '0' && type != '\0' && type != '7') continue;
    while (name.starts_with("./")) name.erase(0, 2);
    auto clean = manifest::CleanPath(name);
    if (!clean.ok()) return MakeError(ErrorCode::kAccessDenied, "tar: entry escapes the archive: " + name);
    if (files.size() >= limits.max_files) return MakeError(ErrorCode::kLimitExceeded, "tar: too many entries");
    files.push_back(ChartFile{*clean, std::move(body), nullptr});
  }
  return files;
}

const Result<std::string>& DeferredFile::Get() const {
  std::call_once(once_, [this] {
    Result<std::string> data = fs_.ReadFile(path_);
    result_.emplace(data.ok() ? Result<std::string>(StripBom(std::move(data).value())) : std::move(data));
  });
  return *result_;
}

Result<std::string_view> ChartFile::Contents() const {
  if (deferred == nullptr) return std::string_view(data);
  const Result<std::string>& r = deferred->Get();
  if (!r.ok()) return r.error();
  return std::string_view(*r);
}

Result<std::shared_ptr<Chart>> LoadChartArchive(std::string_view data, const LoadLimits& limits) {
  return LoadArchive(data, limits, 0, "");
}

Result<std::shared_ptr<Chart>> LoadChart(const manifest::FileSystem& fs, std::string_view dir, const LoadLimits& limits) {
  std::string root(dir);
  std::vector<IgnoreRule> rules;
  auto ignore = fs.ReadFile(root.empty() ? ".helmignore" : root + "/.helmignore");
  if (ignore.ok()) rules = ParseIgnore(*ignore);
  rules.push_back(IgnoreRule{"templates/.?*", false, false, true});
  std::vector<ChartFile> files;
  Status st = Walk(fs, root, "", rules, files, limits);
  if (!st.ok()) return std::move(st).error();
  return LoadFromFiles(std::move(files), limits, 0, "");
}

}  // namespace keelson::helm
