// In-process Helm rendering, the way the agent renders: runs
// `keelson render CHART ARGS...` N times in this one process, each time
// reading the values files, loading the chart from disk and rendering it,
// with nothing kept between renders but what the renderer itself keeps
// process-wide (its compiled-regexp cache). bench/helm/run drives it.
//
//   helm_bench N CHART [render flags...]
//
// Prints the first render's output on stdout (run compares it with the
// reference's before it trusts the timing) and the seconds all N renders
// took on stderr.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: helm_bench N CHART [render flags...]\n");
    return 2;
  }
  int n = std::atoi(argv[1]);
  std::vector<std::string> args(argv + 2, argv + argc);
  std::string first;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::ostringstream out, err;
    keelson::cli::Invocation inv{args, out, err};
    if (keelson::cli::RunRenderChart(inv) != keelson::cli::kExitOk) {
      std::cerr << err.str();
      return 1;
    }
    if (i == 0) first = out.str();
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::cout << first;
  std::cerr << elapsed.count() << "\n";
  return 0;
}
