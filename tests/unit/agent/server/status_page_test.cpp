#include <gtest/gtest.h>

#include "agent/server/status_page.h"

namespace keelson::server {
namespace {

TEST(StatusPage, ShowsUnitsAndEscapesEverything) {
  nlohmann::json status = {
      {"environment", "prod"},
      {"version", "0.1.0"},
      {"lastError", ""},
      {"lastPass", {{"revision", "3f2a91c0ffee"}, {"time", "2026-11-27T10:00:00Z"}, {"trigger", "poll"}}},
      {"units",
       {{{"unit", "web"}, {"health", "Healthy"}, {"appliedRevision", "3f2a91c0ffee11"}, {"signer", "alice@example.com"},
         {"driftedObjects", 0}},
        {{"unit", "api"}, {"health", "Failed"}, {"lastError", "<script>alert(1)</script>"}, {"driftedObjects", 1},
         {"driftedFields", {"apps/v1/Deployment/prod/api: spec.replicas"}}}}},
  };
  std::string html = RenderStatusPage(status);
  EXPECT_NE(html.find("<meta name=\"viewport\""), std::string::npos);
  EXPECT_NE(html.find("Keelson · prod"), std::string::npos);
  EXPECT_NE(html.find("alice@example.com"), std::string::npos);
  EXPECT_NE(html.find("badge bad\">Failed"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("spec.replicas"), std::string::npos);
}

}  // namespace
}  // namespace keelson::server
