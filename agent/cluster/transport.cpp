#include "agent/cluster/transport.h"

#include <strings.h>

namespace keelson::cluster {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return {};
}

}  // namespace keelson::cluster
