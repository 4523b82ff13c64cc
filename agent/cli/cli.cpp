#include "agent/cli/cli.h"

#include <iostream>
#include <ostream>

#include "agent/cli/logging.h"

namespace keelson::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"render", "Render a directory (plain YAML, Kustomize overlay or Helm chart) to stdout",
       "usage: keelson render DIR\n"
       "\n"
       "Prints the objects DIR renders to as one YAML stream. A directory with\n"
       "plain manifests renders every *.yaml, *.yml and *.json file under it in\n"
       "path order.\n",
       RunRender},
      {"fetch", "Bring the local mirror of a Git repository up to date",
       "usage: keelson fetch --url URL --state-dir DIR [--name NAME]\n"
       "                     [--branch B | --tag T | --semver RANGE]\n"
       "                     [--ssh-key FILE --known-hosts FILE]\n"
       "                     [--https-user USER --https-password-file FILE] [--ca-file FILE]\n"
       "                     [--timeout SECONDS] [--attempts N]\n"
       "\n"
       "Clones URL into DIR/NAME.git (bare) the first time and fetches only the\n"
       "tracked ref afterwards (default: --branch main). Prints one line:\n"
       "REF COMMIT CHANGE objects=N bytes=N, where CHANGE is created,\n"
       "fast-forward, forced, deleted or unchanged. SSH needs --known-hosts;\n"
       "TLS uses the system store unless --ca-file is given. Exit 1 when the\n"
       "remote cannot be reached or refuses us; the mirror is then unchanged.\n",
       RunFetch},
      {"version", "Print the version, the git commit and the library versions",
       "usage: keelson version\n", RunVersion},
      {"help", "Show help for keelson or one of its commands", "usage: keelson help [COMMAND]\n", RunHelp},
  };
  return kCommands;
}

int UsageError(const Invocation& inv, std::string_view message) {
  inv.err << "keelson: error: " << message << "\n";
  return kExitUsage;
}

namespace {

constexpr std::string_view kGlobalUsage =
    "usage: keelson [--log-format text|json] [--log-level LEVEL] COMMAND [ARGS]\n";

}  // namespace

int RunHelp(const Invocation& inv) {
  if (inv.args.size() > 1) return UsageError(inv, "help takes at most one command name");
  if (inv.args.size() == 1) {
    for (const Command& c : Commands()) {
      if (c.name == inv.args[0]) {
        inv.out << c.usage;
        return kExitOk;
      }
    }
    return UsageError(inv, "unknown command \"" + inv.args[0] + "\"; see `keelson help`");
  }
  inv.out << "Keelson keeps a Kubernetes cluster equal to what trusted people committed to Git.\n\n"
          << kGlobalUsage << "\ncommands:\n";
  for (const Command& c : Commands()) {
    inv.out << "  " << c.name << std::string(12 - std::min<std::size_t>(c.name.size(), 11), ' ') << c.summary
            << "\n";
  }
  inv.out << "\nglobal flags:\n"
             "  --log-format text|json   log lines for people (default) or machines\n"
             "  --log-level LEVEL        trace, debug, info (default), warn, error, off\n"
             "\nexit codes: 0 ok, 1 a check failed (drift, policy denied, bad signature),\n"
             "2 usage or input error\n";
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Invocation top{{}, std::cout, std::cerr};
  LogFormat format = LogFormat::kText;
  std::string level = "info";
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string_view flag) -> const std::string* {
      if (a == flag) {
        if (i + 1 >= args.size()) return nullptr;
        return &args[++i];
      }
      return nullptr;
    };
    if (a == "--log-format" || a.starts_with("--log-format=")) {
      std::string v = a.starts_with("--log-format=") ? a.substr(13) : (value("--log-format") ? args[i] : "");
      if (v == "text") {
        format = LogFormat::kText;
      } else if (v == "json") {
        format = LogFormat::kJson;
      } else {
        return UsageError(top, "--log-format must be text or json");
      }
    } else if (a == "--log-level" || a.starts_with("--log-level=")) {
      std::string v = a.starts_with("--log-level=") ? a.substr(12) : (value("--log-level") ? args[i] : "");
      if (v.empty()) return UsageError(top, "--log-level needs a value");
      level = v;
    } else if (a == "-h" || a == "--help") {
      return RunHelp(top);
    } else if (a == "--version") {
      return RunVersion(top);
    } else if (a.starts_with("-")) {
      return UsageError(top, "unknown flag \"" + a + "\"; see `keelson help`");
    } else {
      break;
    }
  }
  if (Status s = SetUpLogging(format, level); !s) return UsageError(top, s.error().ToString());
  if (i >= args.size()) {
    std::cerr << kGlobalUsage << "run `keelson help` for the list of commands\n";
    return kExitUsage;
  }
  const std::string& name = args[i];
  for (const Command& c : Commands()) {
    if (c.name != name) continue;
    Invocation inv{{args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end()}, std::cout, std::cerr};
    for (const std::string& a : inv.args) {
      if (a == "-h" || a == "--help") {
        inv.out << c.usage;
        return kExitOk;
      }
    }
    return c.run(inv);
  }
  return UsageError(top, "unknown command \"" + name + "\"; see `keelson help`");
}

}  // namespace keelson::cli
