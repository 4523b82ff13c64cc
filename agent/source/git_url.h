// How a Git remote URL is spelled: its scheme and whether it goes over SSH.
// Shared by the configuration reader (which asks for known_hosts when a
// URL is SSH) and the mirror (which picks credentials the same way), so
// the two can never disagree about a URL.
#pragma once

#include <string>
#include <string_view>

namespace keelson::source {

// The text before "://", or "" for a URL without one.
std::string UrlScheme(std::string_view url);

// scp-style "[user@]host:path", which git reads as SSH: a colon before any
// slash and no "://".
bool IsScpLikeUrl(std::string_view url);

// ssh://, git+ssh://, ssh+git:// or scp-style.
bool IsSshUrl(std::string_view url);

}  // namespace keelson::source
