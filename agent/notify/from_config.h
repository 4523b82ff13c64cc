// Builds the agent's Notifier from the `notifications` section of its config.
#pragma once

#include <memory>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/notify/notifier.h"
#include "renderers/manifest/result.h"

namespace keelson::notify {

// Reads every route's secret file (and CA file) now, so a missing file fails
// at startup or reload rather than at the first incident. Returns nullptr
// when no route is configured. Errors name the config file and the field
// (notifications.routes[i].secretFile), never the secret.
Result<std::unique_ptr<Notifier>> MakeNotifier(const config::NotificationsConfig& config,
                                               const std::string& config_file);

}  // namespace keelson::notify
