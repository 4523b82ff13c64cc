// The `keelson` binary: subcommand dispatch only; see agent/cli/.
#include "agent/cli/cli.h"

int main(int argc, char** argv) { return keelson::cli::Main(argc, argv); }
