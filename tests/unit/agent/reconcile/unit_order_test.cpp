#include <gtest/gtest.h>

#include "agent/reconcile/unit_order.h"

namespace keelson::reconcile {
namespace {

config::UnitSpec Unit(std::string name, std::vector<std::string> deps = {}) {
  config::UnitSpec u;
  u.name = std::move(name);
  u.depends_on = std::move(deps);
  return u;
}

TEST(UnitOrder, LevelsFollowDependencies) {
  auto levels = OrderUnits({Unit("web", {"db", "infra"}), Unit("infra"), Unit("db", {"infra"}), Unit("docs")});
  ASSERT_TRUE(levels.ok());
  using L = std::vector<std::vector<std::string>>;
  EXPECT_EQ(*levels, (L{{"infra", "docs"}, {"db"}, {"web"}}));
}

TEST(UnitOrder, CycleIsNamed) {
  auto levels = OrderUnits({Unit("a", {"b"}), Unit("b", {"c"}), Unit("c", {"a"}), Unit("d")});
  ASSERT_FALSE(levels.ok());
  EXPECT_NE(levels.error().message.find("a -> b -> c -> a"), std::string::npos) << levels.error().message;
}

TEST(UnitOrder, UnknownDependency) {
  auto levels = OrderUnits({Unit("a", {"nope"})});
  ASSERT_FALSE(levels.ok());
  EXPECT_NE(levels.error().message.find("\"nope\""), std::string::npos);
}

}  // namespace
}  // namespace keelson::reconcile
