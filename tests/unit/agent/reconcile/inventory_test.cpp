#include <gtest/gtest.h>

#include "agent/reconcile/inventory.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/reconcile/simulated_cluster.h"

namespace keelson::reconcile {
namespace {

Inventory Sample() {
  return Inventory{"web", "abc123",
                   {manifest::ResourceId{"apps", "v1", "Deployment", "app", "web"},
                    manifest::ResourceId{"", "v1", "Namespace", "", "app"}}};
}

TEST(Inventory, JsonRoundTrip) {
  Result<Inventory> back = Inventory::FromJson(Sample().ToJson(), "x");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->objects, Sample().objects);
  EXPECT_EQ(back->revision, "abc123");
  EXPECT_FALSE(Inventory::FromJson("{\"unit\":\"x\"}", "bad.json").ok());
}

TEST(Inventory, FileStoreSurvivesReopen) {
  keelson::testing::TempDir dir;
  {
    FileInventoryStore store(dir.path() + "/inventory");
    ASSERT_TRUE(store.Save(Sample()).ok());
  }
  FileInventoryStore reopened(dir.path() + "/inventory");
  Result<std::optional<Inventory>> loaded = reopened.Load("web");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->objects.size(), 2u);
  Result<std::optional<Inventory>> none = reopened.Load("other");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(Inventory, ClusterCopyIsFoundByANewAgent) {
  testing::SimulatedCluster cluster;
  keelson::testing::TempDir dir;
  FileInventoryStore local(dir.path());
  ClusterInventoryStore remote(cluster);
  MirroredInventoryStore store(remote, local);
  ASSERT_TRUE(store.Save(Sample()).ok());
  // A new agent with an empty state directory.
  keelson::testing::TempDir fresh;
  FileInventoryStore empty_local(fresh.path());
  MirroredInventoryStore again(remote, empty_local);
  Result<std::optional<Inventory>> loaded = again.Load("web");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->revision, "abc123");
}

}  // namespace
}  // namespace keelson::reconcile
