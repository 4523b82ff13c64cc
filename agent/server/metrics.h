// Prometheus metrics: counters, gauges and histograms with labels, and
// the text exposition format (version 0.0.4) served at /metrics.
//
// Families are created once (usually at start) and looked up by name;
// observing a value is a mutex-protected map update, cheap next to the
// work being measured. Thread-safe. Label values are escaped on output;
// callers never put secrets in labels.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace keelson::server {

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  // Declares a family. Declaring the same name twice keeps the first.
  void DeclareCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  void DeclareGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  void DeclareHistogram(const std::string& name, const std::string& help, std::vector<double> buckets,
                        std::vector<std::string> labels = {});

  // `label_values` follow the declared label names, in order. A call on an
  // undeclared family or with the wrong number of labels is a bug and is
  // ignored in release builds.
  void Add(const std::string& name, const std::vector<std::string>& label_values, double delta = 1);
  void Set(const std::string& name, const std::vector<std::string>& label_values, double value);
  void Observe(const std::string& name, const std::vector<std::string>& label_values, double value);

  // Current value of a counter or gauge series (0 when never set).
  double Value(const std::string& name, const std::vector<std::string>& label_values) const;

  // The whole registry in the Prometheus text format.
  std::string Exposition() const;

  // The families the agent exports, declared in one place so the
  // dashboard (packaging/grafana) and docs name the same series.
  static void DeclareAgentMetrics(MetricsRegistry& registry);

 private:
  struct Series {
    double value = 0;               // counter/gauge
    std::vector<std::uint64_t> bucket_counts;  // histogram, cumulative on output
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    std::string help;
    std::vector<std::string> labels;
    std::vector<double> buckets;
    std::map<std::vector<std::string>, Series> series;
  };
  Family* Lookup(const std::string& name, const std::vector<std::string>& label_values);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace keelson::server
