#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/server/metrics.h"
#include "tests/testing/subprocess.h"

namespace keelson::server {
namespace {

TEST(Metrics, ExpositionFormat) {
  MetricsRegistry r;
  r.DeclareCounter("keelson_things_total", "Things done.", {"unit"});
  r.DeclareGauge("keelson_level", "A level.");
  r.DeclareHistogram("keelson_seconds", "Durations.", {0.5, 1}, {"unit"});
  r.Add("keelson_things_total", {"web \"a\"\\b"}, 2);
  r.Set("keelson_level", {}, 1.5);
  r.Observe("keelson_seconds", {"web"}, 0.2);
  r.Observe("keelson_seconds", {"web"}, 0.7);
  r.Observe("keelson_seconds", {"web"}, 3);
  EXPECT_EQ(r.Exposition(),
            "# HELP keelson_level A level.\n"
            "# TYPE keelson_level gauge\n"
            "keelson_level 1.5\n"
            "# HELP keelson_seconds Durations.\n"
            "# TYPE keelson_seconds histogram\n"
            "keelson_seconds_bucket{unit=\"web\",le=\"0.5\"} 1\n"
            "keelson_seconds_bucket{unit=\"web\",le=\"1\"} 2\n"
            "keelson_seconds_bucket{unit=\"web\",le=\"+Inf\"} 3\n"
            "keelson_seconds_sum{unit=\"web\"} 3.8999999999999999\n"
            "keelson_seconds_count{unit=\"web\"} 3\n"
            "# HELP keelson_things_total Things done.\n"
            "# TYPE keelson_things_total counter\n"
            "keelson_things_total{unit=\"web \\\"a\\\"\\\\b\"} 2\n");
  EXPECT_EQ(r.Value("keelson_things_total", {"web \"a\"\\b"}), 2);
}

// The agent's whole family list parses with the Prometheus client
// library's own text-format parser.
TEST(Metrics, AgentMetricsParseWithPrometheusParser) {
  // Debian's python3 with python3-prometheus-client, both installed by
  // scripts/setup: a missing one is a failure, not a skip.
  ASSERT_EQ(access("/usr/bin/python3", X_OK), 0) << "/usr/bin/python3 is missing (scripts/setup installs it)";
  MetricsRegistry r;
  MetricsRegistry::DeclareAgentMetrics(r);
  r.Set("keelson_build_info", {"0.1.0", "abc"}, 1);
  r.Observe("keelson_reconcile_duration_seconds", {"web", "applied"}, 1.2);
  r.Add("keelson_api_requests_total", {"apply", "200"}, 3);
  r.Set("keelson_drift_objects", {"web"}, 0);
  testing::ProcessResult p = testing::RunProgram(
      {"/usr/bin/python3", "-c",
       "import sys\n"
       "from prometheus_client.parser import text_string_to_metric_families\n"
       "fams = list(text_string_to_metric_families(sys.stdin.read()))\n"
       "names = sorted(f.name for f in fams)\n"
       "print(len(fams), ' '.join(names))\n"},
      r.Exposition());
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("keelson_reconcile_duration_seconds"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("keelson_api_requests"), std::string::npos) << p.out;
}

}  // namespace
}  // namespace keelson::server
