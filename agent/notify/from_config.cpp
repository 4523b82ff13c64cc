#include "agent/notify/from_config.h"

#include <fstream>
#include <sstream>

namespace keelson::notify {

namespace {

Result<std::string> ReadSmallFile(const std::string& path, const std::string& config_file, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read " + path, Location{config_file, 0, 0, field});
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > (1u << 20)) {
    return MakeError(ErrorCode::kLimitExceeded, path + " is larger than 1 MiB", Location{config_file, 0, 0, field});
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<Notifier>> MakeNotifier(const config::NotificationsConfig& config,
                                               const std::string& config_file) {
  if (config.routes.empty()) return std::unique_ptr<Notifier>();
  std::vector<RouteConfig> routes;
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const config::NotificationRoute& c = config.routes[i];
    std::string at = "notifications.routes[" + std::to_string(i) + "]";
    RouteConfig r;
    r.name = c.name;
    r.kind = c.kind == "slack"        ? RouteKind::kSlack
             : c.kind == "pagerduty"  ? RouteKind::kPagerDuty
             : c.kind == "statuspage" ? RouteKind::kStatusPage
                                      : RouteKind::kWebhook;
    r.url = c.url;
    Result<std::string> secret = ReadSmallFile(c.secret_file, config_file, at + ".secretFile");
    if (!secret.ok()) return std::move(secret).error();
    r.secret = std::move(secret).value();
    while (!r.secret.empty() && (r.secret.back() == '\n' || r.secret.back() == '\r')) r.secret.pop_back();
    if (r.secret.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "the secret file is empty", Location{config_file, 0, 0, at + ".secretFile"});
    }
    if (r.kind == RouteKind::kSlack && !r.secret.starts_with("https://") && !r.secret.starts_with("http://")) {
      return MakeError(ErrorCode::kInvalidInput, "a Slack route's secret file must hold the webhook URL",
                       Location{config_file, 0, 0, at + ".secretFile"});
    }
    if (!c.ca_file.empty()) {
      Result<std::string> ca = ReadSmallFile(c.ca_file, config_file, at + ".caFile");
      if (!ca.ok()) return std::move(ca).error();
      r.ca_pem = std::move(ca).value();
    }
    r.units = c.units;
    ParseSeverity(c.min_severity, &r.min_severity);
    r.retries = c.retries;
    r.timeout = c.timeout;
    routes.push_back(std::move(r));
  }
  NotifierOptions options;
  options.queue_capacity = static_cast<std::size_t>(config.queue_size);
  return std::make_unique<Notifier>(std::move(routes), MakeHttpSender(), options);
}

}  // namespace keelson::notify
