#include "agent/server/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace keelson::server {

void MetricsRegistry::DeclareCounter(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{MetricType::kCounter, help, std::move(labels), {}, {}});
}

void MetricsRegistry::DeclareGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{MetricType::kGauge, help, std::move(labels), {}, {}});
}

void MetricsRegistry::DeclareHistogram(const std::string& name, const std::string& help, std::vector<double> buckets,
                                       std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{MetricType::kHistogram, help, std::move(labels), std::move(buckets), {}});
}

MetricsRegistry::Family* MetricsRegistry::Lookup(const std::string& name,
                                                 const std::vector<std::string>& label_values) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.labels.size() != label_values.size()) {
    assert(false && "metric not declared or wrong label count");
    return nullptr;
  }
  return &it->second;
}

void MetricsRegistry::Add(const std::string& name, const std::vector<std::string>& label_values, double delta) {
  std::lock_guard lock(mu_);
  if (Family* f = Lookup(name, label_values)) f->series[label_values].value += delta;
}

void MetricsRegistry::Set(const std::string& name, const std::vector<std::string>& label_values, double value) {
  std::lock_guard lock(mu_);
  if (Family* f = Lookup(name, label_values)) f->series[label_values].value = value;
}

void MetricsRegistry::Observe(const std::string& name, const std::vector<std::string>& label_values, double value) {
  std::lock_guard lock(mu_);
  Family* f = Lookup(name, label_values);
  if (f == nullptr) return;
  Series& s = f->series[label_values];
  if (s.bucket_counts.empty()) s.bucket_counts.assign(f->buckets.size(), 0);
  for (std::size_t i = 0; i < f->buckets.size(); ++i) {
    if (value <= f->buckets[i]) {
      ++s.bucket_counts[i];
      break;
    }
  }
  s.sum += value;
  ++s.count;
}

double MetricsRegistry::Value(const std::string& name, const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(label_values);
  return s == it->second.series.end() ? 0 : s->second.value;
}

namespace {

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string MetricsRegistry::Exposition() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == MetricType::kCounter ? "counter" : f.type == MetricType::kGauge ? "gauge" : "histogram";
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [values, s] : f.series) {
      if (f.type != MetricType::kHistogram) {
        out += name + Labels(f.labels, values) + " " + FormatNumber(s.value) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += s.bucket_counts[i];
        out += name + "_bucket" + Labels(f.labels, values, "le=\"" + FormatNumber(f.buckets[i]) + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + Labels(f.labels, values, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + Labels(f.labels, values) + " " + FormatNumber(s.sum) + "\n";
      out += name + "_count" + Labels(f.labels, values) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

void MetricsRegistry::DeclareAgentMetrics(MetricsRegistry& r) {
  r.DeclareGauge("keelson_build_info", "Build information; always 1.", {"version", "commit"});
  r.DeclareHistogram("keelson_reconcile_duration_seconds", "Duration of one unit's reconcile.",
                     {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}, {"unit", "result"});
  r.DeclareCounter("keelson_applied_objects_total", "Objects applied, by action.", {"unit", "action"});
  r.DeclareCounter("keelson_pruned_objects_total", "Objects deleted because they left the render.", {"unit"});
  r.DeclareGauge("keelson_drift_objects", "Objects whose owned fields differ from what was applied.", {"unit"});
  r.DeclareCounter("keelson_drift_corrections_total", "Drifted objects re-applied.", {"unit"});
  r.DeclareCounter("keelson_policy_denials_total", "Units denied by a gate or policy.", {"unit"});
  r.DeclareCounter("keelson_signature_verifications_total", "Commit and tag signature checks.",
                   {"format", "verdict"});
  r.DeclareHistogram("keelson_git_fetch_duration_seconds", "Duration of one source fetch.",
                     {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}, {"source"});
  r.DeclareCounter("keelson_git_fetch_errors_total", "Failed source fetches.", {"source"});
  r.DeclareCounter("keelson_api_requests_total", "Kubernetes API requests, by verb and status code.",
                   {"verb", "code"});
  r.DeclareGauge("keelson_audit_queue_depth", "Audit records written locally but not yet pushed.");
  r.DeclareGauge("keelson_unit_healthy", "1 when the unit is healthy at its applied revision.", {"unit"});
  r.DeclareCounter("keelson_rollbacks_total", "Units rolled back to their last healthy revision.", {"unit"});
}

}  // namespace keelson::server
