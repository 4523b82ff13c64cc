// Process-wide logging setup: human text on a terminal, JSON lines for
// machines. Secrets are never passed to the logger; callers log names and
// digests, not values.
#pragma once

#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::cli {

enum class LogFormat { kText, kJson };

// Installs the default logger on stderr. Fails on an unknown level name
// (trace, debug, info, warn, error, off).
Status SetUpLogging(LogFormat format, std::string_view level);

}  // namespace keelson::cli
