#include "agent/cli/cli.h"

#include <iostream>
#include <ostream>

#include "agent/cli/logging.h"

namespace keelson::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"render", "Render a directory (plain YAML, Kustomize overlay or Helm chart) to stdout",
       "usage: keelson render DIR\n"
       "       keelson render CHART [--release NAME] [--namespace NS] [-f values.yaml]...\n"
       "         [--set k=v]... [--set-string k=v]... [--set-file k=path]... [--include-crds]\n"
       "         [--skip-tests] [--kube-version V] [--api-versions G/V]...\n"
       "\n"
       "Prints the objects DIR renders to as one YAML stream. A directory with\n"
       "plain manifests renders every *.yaml, *.yml and *.json file under it in\n"
       "path order. A directory holding Chart.yaml is a Helm chart and prints\n"
       "what `helm template NAME CHART ...` prints.\n",
       RunRender},
      {"verify", "Check the signatures of commits and tags against trusted keys and a trust policy",
       "usage: keelson verify --repo PATH (--rev R | --range A..B) [--allowed-signers F]\n"
       "                      [--openpgp-keyring F] [--x509-roots F] [--policy F]\n"
       "\n"
       "Checks the signature of R, or of every commit in A..B (the policy may ask\n"
       "for first parents only, or the head only), with an OpenSSH allowed_signers\n"
       "file, an armored OpenPGP keyring and PEM X.509 root certificates, then\n"
       "applies the trust policy (see docs/trust.md). When R or B is an annotated\n"
       "tag, its signature is checked too. Prints one line per object:\n"
       "  ID pass|fail FORMAT SIGNER FINGERPRINT REASON\n"
       "Exit 0 when every object passes, 1 when one fails, 2 on usage or input errors.\n",
       RunVerify},
      {"audit", "Read and verify the audit trail (log, show, verify)",
       "usage: keelson audit log [--repo PATH] [--env E | --branch B] [--since T]\n"
       "       keelson audit show [--repo PATH] [--allowed-signers FILE] REV\n"
       "       keelson audit show [--repo PATH] [--allowed-signers FILE] --env E --seq N\n"
       "       keelson audit verify [--repo PATH] --allowed-signers FILE [--env E | --branch B]\n"
       "The agent writes one signed commit per record on keelson/audit/<env>.\n"
       "  log     a table of the records of one or all environments, oldest first;\n"
       "          --since takes a time (2026-11-27T10:00:00Z), a date or an age (12h, 7d).\n"
       "          log does not check signatures.\n"
       "  show    one record with its commit and signer.\n"
       "  verify  checks every record: signed by a key in the allowed signers file\n"
       "          (OpenSSH allowed_signers, as for git's gpg.ssh.allowedSignersFile),\n"
       "          sequence without gaps, each record naming the one before it, one\n"
       "          record file added per commit. Exit 1 names the first bad record.\n"
       "--repo defaults to the current directory; without --env or --branch every\n"
       "keelson/audit/* branch is read.\n",
       RunAudit},
      {"agent", "Run the GitOps agent daemon",
       "usage: keelson agent --config FILE [--once] [--listen HOST:PORT]\n"
       "Keeps the cluster equal to what trusted people committed: fetches the\n"
       "sources, checks every commit's signature, renders the units the\n"
       "environment declaration lists, applies them in dependsOn and wave\n"
       "order with health gates, rolls back failures, watches for drift and\n"
       "writes the audit trail. SIGTERM drains, SIGHUP reloads the config.\n"
       "  --once            one pass, then exit: 0 if every unit is healthy, 1 if not\n"
       "  --listen H:P      override the config's listen address\n",
       RunAgent},
      {"diff", "Show what the next reconcile would change, as a unified diff per object",
       "usage: keelson diff --config FILE [--unit UNIT]\n"
       "\n"
       "Renders every unit (or one) at the revision the agent's mirrors hold and\n"
       "compares the result of a server-side dry-run apply (forced, so fields\n"
       "changed by hand show as changes) with the live objects.\n"
       "Exits 1 when anything would change, 0 when nothing would.\n",
       RunDiff},
      {"status", "Print each unit's revision, signer, health, drift and last error",
       "usage: keelson status --config FILE\n"
       "Reads the agent's state directory. Exits 1 when a unit is not healthy\n"
       "or has drifted.\n",
       RunStatus},
      {"sandbox", "Run a local Kubernetes API server for rehearsals and tests",
       "usage: keelson sandbox --state-dir DIR [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
       "                       [--token TOKEN | --token-file FILE] [--kubeconfig-out FILE]\n"
       "                       [--rollout-delay DURATION] [--fail-images PATTERN[,PATTERN...]]\n"
       "                       [--fault-latency DURATION] [--fault-error-rate R] [--fault-throttle-rate R]\n"
       "                       [--fault-retry-after SECONDS] [--fault-drop-rate R] [--fault-seed N]\n"
       "                       [--fault-path-prefix PATH] [--bookmark-interval DURATION] [--watch-history N]\n"
       "Serves the Kubernetes API (discovery, OpenAPI v3, CRUD, server-side apply,\n"
       "watch, CRDs) on HOST:PORT (default 127.0.0.1:0, a free port) and prints the\n"
       "bound address as the first line on stdout. Objects and the resourceVersion\n"
       "counter persist in DIR/state.json. Workloads become ready after\n"
       "--rollout-delay (default 1s); images matching --fail-images never do.\n"
       "Faults can be changed at run time with PUT /sandbox/faults; GET\n"
       "/sandbox/requests lists every request served. SIGINT/SIGTERM save and stop.\n",
       RunSandbox},
      {"policy", "Check objects against policies, or run policies' fixtures",
       "usage: keelson policy check [--policies DIR] [--env E] [--unit U] [--no-builtin] PATH...\n"
       "       keelson policy test DIR\n"
       "check renders each PATH (a directory of plain manifests, or one manifest\n"
       "file) and checks every object against the built-in policies and those in\n"
       "DIR. Prints one line per violation, `file:line: policy: message`, and\n"
       "exits 1 if any policy with severity deny is violated.\n"
       "test runs the pass-*/fail-* fixtures of every policy under DIR (a policy\n"
       "directory, or a directory of them) and exits 1 on any mismatch.\n"
       "See docs/policies.md.\n",
       RunPolicy},
      {"fetch", "Bring the local mirror of a Git repository up to date",
       "usage: keelson fetch --url URL --state-dir DIR [--name NAME]\n"
       "                     [--branch B | --tag T | --semver RANGE]\n"
       "                     [--ssh-key FILE --known-hosts FILE]\n"
       "                     [--https-user USER --https-password-file FILE] [--ca-file FILE]\n"
       "                     [--timeout SECONDS] [--attempts N]\n"
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
