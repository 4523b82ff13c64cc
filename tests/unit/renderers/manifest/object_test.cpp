#include <gtest/gtest.h>

#include "renderers/manifest/object.h"

namespace keelson::manifest {
namespace {

TEST(Object, ExtractsIdentity) {
  Result<ObjectList> objs = ParseObjects(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
      "all.yaml");
  ASSERT_TRUE(objs.ok()) << objs.error().ToString();
  ASSERT_EQ(objs->size(), 2u);
  EXPECT_EQ((*objs)[0].id, (ResourceId{"apps", "v1", "Deployment", "prod", "web"}));
  EXPECT_EQ((*objs)[0].id.ToString(), "apps/v1/Deployment/prod/web");
  EXPECT_EQ((*objs)[1].id.group, "");
  EXPECT_EQ((*objs)[1].id.ApiVersion(), "v1");
  EXPECT_EQ((*objs)[1].origin.line, 7);
}

TEST(Object, MissingKindNamesFileLineAndField) {
  Result<ObjectList> objs = ParseObjects("---\napiVersion: v1\nmetadata:\n  name: x\n", "svc.yaml");
  ASSERT_FALSE(objs.ok());
  EXPECT_EQ(objs.error().where.file, "svc.yaml");
  EXPECT_EQ(objs.error().where.field, "kind");
  EXPECT_EQ(objs.error().where.line, 2);
  EXPECT_EQ(objs.error().ToString(), "svc.yaml:2:1: kind: missing field");
}

TEST(Object, FlattensLists) {
  Result<ObjectList> objs = ParseObjects(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
      "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
      "list.yaml");
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), 2u);
  EXPECT_EQ((*objs)[1].id.name, "b");
}

TEST(Object, NonMappingDocumentIsAnError) {
  Result<ObjectList> objs = ParseObjects("- a\n- b\n", "seq.yaml");
  ASSERT_FALSE(objs.ok());
  EXPECT_NE(objs.error().ToString().find("seq.yaml:1:1"), std::string::npos);
}

}  // namespace
}  // namespace keelson::manifest
