// Chart loading, values coalescing, --set parsing and output framing.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstring>
#include <map>

#include "renderers/helm/chart.h"
#include "renderers/helm/renderer.h"
#include "renderers/helm/values.h"
#include "renderers/manifest/filesystem.h"

namespace keelson::helm {
namespace {

Value Parse(const std::string& yaml) {
  auto v = ParseValuesFile(yaml, "values.yaml");
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().ToString());
  return v.ok() ? *v : Value::NewMap();
}

std::string Render(manifest::MemoryFileSystem& fs, const Value& user, RenderOptions options = {}) {
  auto chart = LoadChart(fs, "");
  EXPECT_TRUE(chart.ok()) << (chart.ok() ? "" : chart.error().ToString());
  if (!chart.ok()) return "<error>";
  auto out = RenderChart(**chart, user, options);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().ToString());
  return out.ok() ? *out : "<error>";
}

TEST(HelmValues, ValuesFilesDecodeAsHelmDoes) {
  Value v = Parse("a: yes\nb: 10\nc: \"10\"\nd: off\ne: 1.0\n");
  EXPECT_TRUE(v.AsMap().at("a").AsBool());
  EXPECT_TRUE(v.AsMap().at("b").IsFloat());
  EXPECT_TRUE(v.AsMap().at("c").IsString());
  EXPECT_FALSE(v.AsMap().at("d").AsBool());
  EXPECT_TRUE(Parse("").AsMap().empty());
  // Plain keys resolve as YAML 1.1 scalars and become JSON keys; quoted
  // keys stay text.
  EXPECT_EQ(FormatValue(Parse("n: 0\n\"y\": 1\non: 2\n0x10: 3\n1.50: 4\n")), "map[1.5:4 16:3 false:0 true:2 y:1]");
  // Later documents in a values file are ignored, as sigs.k8s.io/yaml does.
  EXPECT_EQ(FormatValue(Parse("a: 1\n---\nb: 2\n")), "map[a:1]");
  EXPECT_FALSE(ParseValuesFile("- a\n", "v.yaml").ok());
}

// Helm reads values through JSON, which has no infinities or NaN; it names
// the first one in JSON's order (keys sorted), and so does Keelson, with
// the line. Checked with Helm on the same inputs.
TEST(HelmValues, InfinityAndNaNAreRefusedAsHelmDoes) {
  auto bad = ParseValuesFile("x: .nan\ny: [1, -.inf]\n", "v.yaml");
  ASSERT_FALSE(bad.ok());
  // The plain key y is the boolean true, so "true" sorts before "x".
  EXPECT_EQ(bad.error().ToString(), "v.yaml:2:8: error converting YAML to JSON: json: unsupported value: -Inf");
  bad = ParseValuesFile("b:\n  c: .Inf\na: .NaN\n", "v.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "error converting YAML to JSON: json: unsupported value: NaN");
  EXPECT_TRUE(ParseValuesFile("a: \".inf\"\nb: 1e308\n", "v.yaml").ok());
}

TEST(HelmValues, SetSyntax) {
  Value v = Value::NewMap();
  ASSERT_TRUE(ApplySet(v, "a.b=1,c=true,d=null,e=0x1,f=007,list[1]=x,g={a,b},h\\.i=j,k=", SetKind::kTyped).ok());
  EXPECT_EQ(FormatValue(v), "map[a:map[b:1] c:true d:<nil> e:0x1 f:007 g:[a b] h.i:j k: list:[<nil> x]]");
  EXPECT_TRUE(v.AsMap().at("a").AsMap().at("b").is_int64());
  Value s = Value::NewMap();
  ASSERT_TRUE(ApplySet(s, "n=5,b=true", SetKind::kString).ok());
  EXPECT_TRUE(s.AsMap().at("n").IsString());
  EXPECT_FALSE(ApplySet(s, "novalue", SetKind::kTyped).ok());
  EXPECT_FALSE(ApplySet(s, "[0]=x", SetKind::kTyped).ok());
}

TEST(HelmValues, CoalesceNullDeletesMapsMergeListsReplace) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
  fs.AddFile("values.yaml", "keep: 1\ndrop: 2\nnested:\n  a: 1\n  b: 2\nlist: [1, 2, 3]\n");
  auto chart = LoadChart(fs, "");
  ASSERT_TRUE(chart.ok());
  Value user = Parse("drop: null\nnested:\n  b: 20\n  c: 30\nlist: [9]\n");
  auto v = CoalesceValues(**chart, user);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(FormatValue(*v), "map[keep:1 list:[9] nested:map[a:1 b:20 c:30]]");
}

TEST(HelmRender, FramingOrderingHooksAndEmptyDocuments) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  fs.AddFile("values.yaml", "replicas: 2\n");
  fs.AddFile("templates/_helpers.tpl", R"({{ define "app.name" }}{{ .Release.Name }}-app{{ end }})");
  fs.AddFile("templates/a-deploy.yaml",
             "kind: Deployment\nmetadata:\n  name: {{ include \"app.name\" . }}\nspec:\n  replicas: {{ .Values.replicas }}\n");
  fs.AddFile("templates/b-svc.yaml", "---\n# only a comment\n---\nkind: Service\nmetadata:\n  name: svc\n");
  fs.AddFile("templates/hook.yaml",
             "kind: Job\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: pre-install\n");
  fs.AddFile("templates/test.yaml",
             "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n");
  fs.AddFile("templates/NOTES.txt", "notes {{ .Release.Name }}");
  fs.AddFile("templates/empty.yaml", "{{ if false }}x: 1{{ end }}\n");
  RenderOptions options;
  options.release_name = "rel";
  options.skip_tests = true;
  EXPECT_EQ(Render(fs, Value::NewMap(), options),
            "---\n# Source: app/templates/b-svc.yaml\nkind: Service\nmetadata:\n  name: svc\n"
            "---\n# Source: app/templates/a-deploy.yaml\nkind: Deployment\nmetadata:\n  name: rel-app\nspec:\n  replicas: 2\n"
            // A document without a kind sorts after every known kind.
            "---\n# Source: app/templates/b-svc.yaml\n# only a comment\n"
            "---\n# Source: app/templates/hook.yaml\nkind: Job\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: pre-install\n");
}

TEST(HelmRender, SubchartsConditionsGlobalsAndParentDefinesWin) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml",
             "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n"
             "- name: sub\n  version: \"~0.1\"\n  condition: sub.enabled\n"
             "- name: disabled\n  version: 1.0.0\n  condition: disabled.enabled\n");
  fs.AddFile("values.yaml", "global:\n  region: eu\nsub:\n  enabled: true\n  color: red\ndisabled:\n  enabled: false\n");
  fs.AddFile("templates/_h.tpl", R"({{ define "shared" }}parent{{ end }})");
  fs.AddFile("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.5\n");
  fs.AddFile("charts/sub/values.yaml", "color: blue\nsize: 1\n");
  fs.AddFile("charts/sub/templates/_h.tpl", R"({{ define "shared" }}sub{{ end }})");
  fs.AddFile("charts/sub/templates/cm.yaml",
             "kind: ConfigMap\ndata:\n  color: {{ .Values.color }}\n  size: \"{{ .Values.size }}\"\n"
             "  region: {{ .Values.global.region }}\n  shared: {{ include \"shared\" . }}\n"
             "  chart: {{ .Chart.Name }}\n  root: \"{{ .Chart.IsRoot }}\"\n");
  fs.AddFile("charts/disabled/Chart.yaml", "apiVersion: v2\nname: disabled\nversion: 1.0.0\n");
  fs.AddFile("charts/disabled/templates/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: disabled\n");
  EXPECT_EQ(Render(fs, Value::NewMap()),
            "---\n# Source: parent/charts/sub/templates/cm.yaml\nkind: ConfigMap\ndata:\n  color: red\n  size: \"1\"\n"
            "  region: eu\n  shared: parent\n  chart: sub\n  root: \"false\"\n");
}

TEST(HelmRender, ErrorsNameTheTemplateFile) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  fs.AddFile("templates/x.yaml", "a: 1\nb: {{ required \"set b\" .Values.b }}\n");
  auto chart = LoadChart(fs, "");
  ASSERT_TRUE(chart.ok());
  auto out = RenderChart(**chart, Value::NewMap(), {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().where.file, "app/templates/x.yaml");
  EXPECT_EQ(out.error().where.line, 2);
  EXPECT_NE(out.error().message.find("set b"), std::string::npos);
}

TEST(HelmRender, FilesObjectGetGlobLinesAsConfigAndRange) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  fs.AddFile("conf/a.conf", "x=1\ny=2\n");
  fs.AddFile("conf/b.conf", "z=3\n");
  fs.AddFile("other.txt", "o");
  fs.AddFile("templates/cm.yaml",
             "get: {{ .Files.Get \"other.txt\" }}\nlines: {{ len (.Files.Lines \"conf/a.conf\") }}\n"
             "glob: {{ len (.Files.Glob \"conf/*\") }}\n"
             "range: {{ range $p, $_ := .Files.Glob \"**.conf\" }}{{ $p }} {{ end }}\n"
             "config:\n{{ (.Files.Glob \"conf/*\").AsConfig | indent 2 }}\n"
             "secret: {{ (.Files.Glob \"other.txt\").AsSecrets | quote }}\n");
  EXPECT_EQ(Render(fs, Value::NewMap()),
            "---\n# Source: app/templates/cm.yaml\nget: o\nlines: 2\nglob: 2\nrange: conf/a.conf conf/b.conf \n"
            "config:\n  a.conf: |\n    x=1\n    y=2\n  b.conf: |\n    z=3\nsecret: \"other.txt: bw==\"\n");
}

// Counts reads per path and fails the ones it is told to, around a memory
// file system.
class WatchedFileSystem final : public manifest::FileSystem {
 public:
  explicit WatchedFileSystem(const manifest::FileSystem& inner) : inner_(inner) {}
  Result<std::string> ReadFile(std::string_view path) const override {
    ++reads_[std::string(path)];
    if (path == failing_) return MakeError(ErrorCode::kInternal, "disk went away", Location{std::string(path), 0, 0, ""});
    return inner_.ReadFile(path);
  }
  Result<std::vector<manifest::DirEntry>> ListDirectory(std::string_view path) const override {
    return inner_.ListDirectory(path);
  }
  manifest::FileType Type(std::string_view path) const override { return inner_.Type(path); }
  std::string Describe() const override { return inner_.Describe(); }
  int Reads(const std::string& path) const { return reads_.count(path) ? reads_.at(path) : 0; }
  void Fail(std::string path) { failing_ = std::move(path); }

 private:
  const manifest::FileSystem& inner_;
  mutable std::map<std::string, int> reads_;
  std::string failing_;
};

// Files only .Files can reach are read when a template asks for them, once.
TEST(HelmChart, FilesOutsideTemplatesAreReadOnFirstUse) {
  manifest::MemoryFileSystem mem;
  mem.AddFile("Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  mem.AddFile("values.yaml", "read: false\n");
  mem.AddFile("CHANGELOG.md", "a long history\n");
  mem.AddFile("config/app.conf", "\xEF\xBB\xBFport=80\n");
  mem.AddFile("broken.txt", "never seen\n");
  mem.AddFile("templates/cm.yaml",
              "conf: {{ if .Values.read }}{{ .Files.Get \"config/app.conf\" | trim }}{{ .Files.Get \"config/app.conf\" "
              "| trim }}{{ end }}\n");
  WatchedFileSystem fs(mem);
  fs.Fail("broken.txt");
  {
    auto chart = LoadChart(fs, "");
    ASSERT_TRUE(chart.ok()) << chart.error().ToString();
    EXPECT_EQ(fs.Reads("CHANGELOG.md"), 0);
    EXPECT_EQ(fs.Reads("broken.txt"), 0);
    EXPECT_EQ(fs.Reads("templates/cm.yaml"), 1);
    auto out = RenderChart(**chart, Value::NewMap(), {});
    ASSERT_TRUE(out.ok()) << out.error().ToString();
    EXPECT_EQ(fs.Reads("config/app.conf"), 0);
    out = RenderChart(**chart, Parse("read: true\n"), {});
    ASSERT_TRUE(out.ok()) << out.error().ToString();
    EXPECT_NE(out->find("conf: port=80port=80\n"), std::string::npos) << *out;  // the BOM is dropped
    EXPECT_EQ(fs.Reads("config/app.conf"), 1);
    EXPECT_EQ(fs.Reads("CHANGELOG.md"), 0);
  }
  // A file that cannot be read fails the template that wanted it, by name.
  mem.AddFile("templates/all.yaml", "n: {{ len .Files }}\n");
  auto chart = LoadChart(fs, "");
  ASSERT_TRUE(chart.ok()) << chart.error().ToString();
  auto out = RenderChart(**chart, Value::NewMap(), {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().ToString().find("broken.txt"), std::string::npos) << out.error().ToString();
  EXPECT_NE(out.error().ToString().find("disk went away"), std::string::npos) << out.error().ToString();
}

TEST(HelmChart, MissingOrInvalidChartYamlIsAnError) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("values.yaml", "a: 1\n");
  EXPECT_FALSE(LoadChart(fs, "").ok());
  manifest::MemoryFileSystem fs2;
  fs2.AddFile("Chart.yaml", "apiVersion: v2\nname: x\n");
  auto r = LoadChart(fs2, "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("version is required"), std::string::npos);
}

// Builds a one-file ustar archive, gzip-compressed.
std::string TarGz(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string tar;
  for (const auto& [name, data] : files) {
    char h[512] = {};
    std::memcpy(h, name.data(), std::min<std::size_t>(name.size(), 99));
    std::snprintf(h + 100, 8, "%07o", 0644);
    std::snprintf(h + 124, 12, "%011o", static_cast<unsigned>(data.size()));
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 5);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    tar.append(h, 512);
    tar += data;
    tar.append((512 - data.size() % 512) % 512, '\0');
  }
  tar.append(1024, '\0');
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(tar.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(tar.data());
  zs.avail_in = static_cast<uInt>(tar.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(HelmChart, SubchartArchivesLoad) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
  fs.AddFile("charts/lib-0.1.0.tgz",
             TarGz({{"lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n"},
                    {"lib/templates/_x.tpl", R"({{ define "lib.x" }}from-archive{{ end }})"}}));
  fs.AddFile("templates/cm.yaml", "v: {{ include \"lib.x\" . }}\n");
  EXPECT_EQ(Render(fs, Value::NewMap()), "---\n# Source: app/templates/cm.yaml\nv: from-archive\n");
}

TEST(HelmChart, ArchivesThatEscapeOrAreCorruptAreRejected) {
  EXPECT_FALSE(ReadTarGz(TarGz({{"../evil", "x"}}), {}).ok());
  EXPECT_FALSE(ReadTarGz("not gzip at all", {}).ok());
  LoadLimits tiny;
  tiny.max_archive_bytes = 100;
  EXPECT_FALSE(ReadTarGz(TarGz({{"a/b", std::string(5000, 'x')}}), tiny).ok());
}

}  // namespace
}  // namespace keelson::helm
