// Waiting with deadlines, and loopback ports for peers in tests.
#pragma once

#include <chrono>
#include <functional>

namespace keelson::testing {

// A port that was free on 127.0.0.1 a moment ago (bound to port 0, then
// released), for peers that cannot bind port 0 themselves and report it;
// 0 when none could be had.
int FreeLoopbackPort();
// Polls until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, std::chrono::milliseconds timeout);
// Calls `condition` every `every` until it holds or `timeout` passes;
// returns whether it held.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = std::chrono::milliseconds(5));

}  // namespace keelson::testing
