#include "policies/library/builtin.h"

#include <string_view>

namespace keelson::policy {

Status AddBuiltinPolicies(PolicySet& set) {
  for (std::size_t i = 0; i < builtin_data::kFileCount; ++i) {
    const builtin_data::EmbeddedFile& f = builtin_data::kFiles[i];
    std::string_view text(reinterpret_cast<const char*>(f.data), f.size);
    if (Status s = set.AddFile(text, std::string("builtin:") + f.path); !s) return s;
  }
  return Status::Ok();
}

std::vector<std::string> BuiltinPolicyNames() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < builtin_data::kFileCount; ++i) {
    std::string_view path = builtin_data::kFiles[i].path;
    names.emplace_back(path.substr(0, path.find('/')));
  }
  return names;
}

}  // namespace keelson::policy
