// The status page at "/": plain HTML and CSS, no script, readable on a
// phone. Rendered from the same JSON /api/v1/status serves, every value
// HTML-escaped.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace keelson::server {

std::string RenderStatusPage(const nlohmann::json& status);

std::string HtmlEscape(const std::string& text);

}  // namespace keelson::server
