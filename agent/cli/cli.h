// The `keelson` command line: global flags, the subcommand table and the
// exit-code contract (0 ok, 1 a check failed, 2 usage or input error).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace keelson::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;

// What a subcommand gets: its own arguments (global flags removed) and the
// streams to write to. Subcommands never call exit().
struct Invocation {
  std::vector<std::string> args;
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `keelson help`
  std::string_view usage;    // full text for `keelson help NAME`
  int (*run)(const Invocation&);
};

// Every subcommand, in the order `keelson help` lists them.
const std::vector<Command>& Commands();

// Parses global flags, sets up logging and runs the subcommand.
int Main(int argc, char** argv);

// Prints "keelson: error: MESSAGE" and returns kExitUsage.
int UsageError(const Invocation& inv, std::string_view message);

// Subcommands (one file each in agent/cli/).
int RunVersion(const Invocation& inv);
int RunRender(const Invocation& inv);
int RunVerify(const Invocation& inv);
int RunSandbox(const Invocation& inv);
// `keelson render CHART ...` for a directory holding Chart.yaml.
int RunRenderChart(const Invocation& inv);
int RunPolicy(const Invocation& inv);
int RunHelp(const Invocation& inv);
int RunAgent(const Invocation& inv);
int RunStatus(const Invocation& inv);
int RunDiff(const Invocation& inv);
int RunAudit(const Invocation& inv);
int RunFetch(const Invocation& inv);

}  // namespace keelson::cli
