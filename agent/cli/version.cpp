#include <boost/version.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <spdlog/version.h>

#include <ostream>

#include "agent/cli/cli.h"
#include "keelson/build_info.h"

namespace keelson::cli {

int RunVersion(const Invocation& inv) {
  if (!inv.args.empty()) return UsageError(inv, "version takes no arguments");
  inv.out << "keelson " << build::kVersion << " (commit " << build::kGitCommit << ")\n"
          << "  libgit2 " << build::kLibgit2Version << "\n"
          << "  yaml-cpp " << build::kYamlCppVersion << "\n"
          << "  " << OpenSSL_version(OPENSSL_VERSION) << "\n"
          << "  boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "."
          << BOOST_VERSION % 100 << "\n"
          << "  spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH << "\n"
          << "  nlohmann-json " << NLOHMANN_JSON_VERSION_MAJOR << "." << NLOHMANN_JSON_VERSION_MINOR << "."
          << NLOHMANN_JSON_VERSION_PATCH << "\n";
  return kExitOk;
}

}  // namespace keelson::cli
