#include "sandbox/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

namespace keelson::sandbox {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A sandbox server on a loopback port, run on its own thread.
class ServerTest : public ::testing::Test {
 protected:
  void Start(SandboxOptions options, ServerOptions server_options = {}) {
    options.bookmark_interval = 200ms;
    api_ = std::make_unique<SandboxApi>(options);
    ASSERT_TRUE(api_->Open("").ok());
    server_ = std::make_unique<SandboxServer>(io_, *api_, server_options);
    ASSERT_TRUE(server_->Start().ok());
    std::string address = server_->address();
    port_ = static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      net::post(io_, [this] {
        server_->Stop();
        io_.stop();
      });
      thread_.join();
    }
  }

  tcp::socket Connect() {
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    return socket;
  }

  http::response<http::string_body> Send(tcp::socket& socket, http::verb verb, const std::string& target,
                                         const std::string& body = "",
                                         const std::string& content_type = "application/json") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    if (ec) res.result(0u);  // nothing (complete) came back
    return res;
  }

  // Reads raw bytes until `needle` shows up or the deadline passes.
  bool ReadUntil(tcp::socket& socket, std::string& seen, const std::string& needle, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    socket.non_blocking(true);
    while (seen.find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      char buf[4096];
      beast::error_code ec;
      std::size_t n = socket.read_some(net::buffer(buf), ec);
      if (ec == net::error::would_block) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      if (ec) return seen.find(needle) != std::string::npos;
      seen.append(buf, n);
    }
    return true;
  }

  net::io_context io_;
  net::io_context client_io_;
  std::unique_ptr<SandboxApi> api_;
  std::unique_ptr<SandboxServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Start({});
  tcp::socket socket = Connect();
  for (int i = 0; i < 3; ++i) {
    auto res = Send(socket, http::verb::get, "/api/v1/namespaces/default");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find("\"name\":\"default\""), std::string::npos);
  }
  auto version = Send(socket, http::verb::get, "/version");
  EXPECT_NE(version.body().find("gitVersion"), std::string::npos);
}

TEST_F(ServerTest, OversizedBodiesAreRefused) {
  ServerOptions server_options;
  server_options.max_body_bytes = 1024;
  Start({}, server_options);
  tcp::socket socket = Connect();
  auto res = Send(socket, http::verb::post, "/api/v1/namespaces/default/configmaps",
                  R"({"metadata":{"name":"big"},"data":{"x":")" + std::string(4096, 'a') + "\"}}");
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(ServerTest, WatchStreamsChangesAsChunks) {
  Start({});
  tcp::socket watcher = Connect();
  std::string request =
      "GET /api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=30 HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\n\r\n";
  net::write(watcher, net::buffer(request));
  std::string seen;
  ASSERT_TRUE(ReadUntil(watcher, seen, "Transfer-Encoding: chunked", 10s)) << seen;

  tcp::socket writer = Connect();
  auto created = Send(writer, http::verb::post, "/api/v1/namespaces/default/configmaps",
                      R"({"metadata":{"name":"w"},"data":{"v":"1"}})");
  ASSERT_EQ(created.result_int(), 201);
  ASSERT_TRUE(ReadUntil(watcher, seen, R"({"type":"ADDED")", 10s)) << seen;
  auto patched = Send(writer, http::verb::patch, "/api/v1/namespaces/default/configmaps/w",
                      R"({"data":{"v":"2"}})", "application/merge-patch+json");
  ASSERT_EQ(patched.result_int(), 200);
  ASSERT_TRUE(ReadUntil(watcher, seen, R"("v":"2")", 10s)) << seen;
  EXPECT_NE(seen.find(R"({"type":"MODIFIED")"), std::string::npos);
  EXPECT_TRUE(ReadUntil(watcher, seen, R"({"type":"BOOKMARK")", 10s)) << seen;
}

TEST_F(ServerTest, WatchEndsAtItsTimeout) {
  Start({});
  tcp::socket watcher = Connect();
  net::write(watcher, net::buffer(std::string("GET /api/v1/namespaces?watch=true&timeoutSeconds=1 HTTP/1.1\r\n"
                                              "Host: x\r\n\r\n")));
  std::string seen;
  EXPECT_TRUE(ReadUntil(watcher, seen, "\r\n0\r\n\r\n", 10s)) << seen;
  EXPECT_NE(seen.find(R"("name":"kube-system")"), std::string::npos);
}

TEST_F(ServerTest, InjectedFaults) {
  SandboxOptions options;
  options.faults.drop_count = 1;
  options.faults.throttle_count = 1;
  options.faults.error_count = 1;
  options.faults.retry_after_seconds = 7;
  Start(options);
  {
    tcp::socket socket = Connect();
    auto res = Send(socket, http::verb::get, "/api/v1/namespaces");
    EXPECT_EQ(res.result_int(), 0);  // nothing came back: the connection was dropped
  }
  tcp::socket socket = Connect();
  auto error = Send(socket, http::verb::get, "/api/v1/namespaces");
  EXPECT_EQ(error.result_int(), 500);
  auto throttled = Send(socket, http::verb::get, "/api/v1/namespaces");
  EXPECT_EQ(throttled.result_int(), 429);
  EXPECT_EQ(throttled[http::field::retry_after], "7");
  EXPECT_EQ(Send(socket, http::verb::get, "/api/v1/namespaces").result_int(), 200);

  auto set = Send(socket, http::verb::put, "/sandbox/faults", R"({"latencyMs":300})");
  ASSERT_EQ(set.result_int(), 200) << set.body();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Send(socket, http::verb::get, "/api/v1/namespaces").result_int(), 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);

  auto log = Send(socket, http::verb::get, "/sandbox/requests");
  Json items = Json::parse(log.body())["items"];
  ASSERT_GE(items.size(), 5u) << items.dump();
  EXPECT_EQ(items[0]["status"], 0) << items.dump();
  EXPECT_EQ(items[1]["status"], 500);
  EXPECT_EQ(items[2]["status"], 429);
}

}  // namespace
}  // namespace keelson::sandbox
