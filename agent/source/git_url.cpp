#include "agent/source/git_url.h"

namespace keelson::source {

std::string UrlScheme(std::string_view url) {
  std::size_t colon = url.find("://");
  return colon == std::string_view::npos ? std::string() : std::string(url.substr(0, colon));
}

bool IsScpLikeUrl(std::string_view url) {
  if (url.find("://") != std::string_view::npos) return false;
  std::size_t colon = url.find(':');
  std::size_t slash = url.find('/');
  return colon != std::string_view::npos && colon > 0 && (slash == std::string_view::npos || colon < slash);
}

bool IsSshUrl(std::string_view url) {
  std::string scheme = UrlScheme(url);
  return scheme == "ssh" || scheme == "ssh+git" || scheme == "git+ssh" || IsScpLikeUrl(url);
}

}  // namespace keelson::source
