#include <gtest/gtest.h>

#include "renderers/manifest/filesystem.h"
#include "renderers/plain/plain_renderer.h"

namespace keelson::plain {
namespace {

std::string Cm(const std::string& name) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
}

TEST(PlainRenderer, ReadsManifestFilesInPathOrder) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("app/b.yaml", Cm("b"));
  fs.AddFile("app/a.yml", Cm("a1") + "---\n" + Cm("a2"));
  fs.AddFile("app/sub/c.json", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})");
  fs.AddFile("app/README.md", "not yaml");
  fs.AddFile("app/.hidden/x.yaml", Cm("hidden"));
  Result<manifest::ObjectList> objs = RenderDirectory(fs, "app");
  ASSERT_TRUE(objs.ok()) << objs.error().ToString();
  std::vector<std::string> names;
  for (const auto& o : *objs) names.push_back(o.id.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a1", "a2", "b", "c"}));
}

TEST(PlainRenderer, NonRecursiveSkipsSubdirectories) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("a.yaml", Cm("a"));
  fs.AddFile("sub/b.yaml", Cm("b"));
  Result<manifest::ObjectList> objs = RenderDirectory(fs, "", PlainOptions{false});
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(objs->size(), 1u);
}

TEST(PlainRenderer, BadFileIsNamedWithLine) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("ok.yaml", Cm("a"));
  fs.AddFile("broken.yaml", "apiVersion: v1\nkind: [\n");
  Result<manifest::ObjectList> objs = RenderDirectory(fs, "");
  ASSERT_FALSE(objs.ok());
  EXPECT_EQ(objs.error().where.file, "broken.yaml");
  EXPECT_GT(objs.error().where.line, 0);
}

TEST(PlainRenderer, RefusesToLeaveTheRoot) {
  manifest::MemoryFileSystem fs;
  Result<manifest::ObjectList> objs = RenderDirectory(fs, "../elsewhere");
  ASSERT_FALSE(objs.ok());
  EXPECT_EQ(objs.error().code, ErrorCode::kAccessDenied);
}

}  // namespace
}  // namespace keelson::plain
