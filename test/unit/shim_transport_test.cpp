// How the shim listens (http/listener.hpp) and how it reaches Twilio over
// libcurl (twilio/http.hpp): a port can be bound once, and a thread's
// requests reuse its kept-alive connection.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "http/listener.hpp"
#include "twilio/http.hpp"

namespace nw {
namespace {

// A local server on a free port that answers GET /ping and records the client
// port of every request (one client port = one TCP connection).
class PingServer {
public:
    PingServer()
    {
        server_.set_keep_alive_max_count(100);
        server_.set_keep_alive_timeout(1);  // stop() waits for idle kept-alive connections
        server_.Get("/ping", [this](const httplib::Request &req, httplib::Response &res) {
            std::lock_guard<std::mutex> lock(mutex_);
            client_ports_.insert(req.remote_port);
            res.set_content("{}", "application/json");
        });
        port_ = http::BindListener(server_, "127.0.0.1", 0);
        if (port_ > 0)
            thread_ = std::thread([this] { server_.listen_after_bind(); });
        // 0.11.4 has no wait_until_ready(); stop() before the loop runs would be lost.
        for (int i = 0; i < 500 && port_ > 0 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ~PingServer()
    {
        server_.stop();
        if (thread_.joinable())
            thread_.join();
    }
    int port() const { return port_; }
    httplib::Server &server() { return server_; }
    std::size_t connections()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return client_ports_.size();
    }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = -1;
    std::mutex mutex_;
    std::set<int> client_ports_;
};

TEST(ShimListener, BindsAFreePortAndServes)
{
    PingServer ping;
    ASSERT_GT(ping.port(), 0);
    httplib::Client client("127.0.0.1", ping.port());
    auto res = client.Get("/ping");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST(ShimListener, ASecondServerCannotTakeABoundPort)
{
    // httplib's default SO_REUSEPORT would let it bind and share the port.
    PingServer first;
    ASSERT_GT(first.port(), 0);
    httplib::Server second;
    EXPECT_EQ(http::BindListener(second, "127.0.0.1", first.port()), -1);
}

twilio::HttpRequest ping(int port)
{
    twilio::HttpRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/ping";
    req.timeoutMs = 5000;
    req.connectTimeoutMs = 2000;
    return req;
}

TEST(TwilioTransport, SequentialRequestsReuseOneConnection)
{
    PingServer server;
    ASSERT_GT(server.port(), 0);
    twilio::Transport transport = twilio::MakeCurlTransport({"AC00000000000000000000000000000000", "token"});
    for (int i = 0; i < 5; ++i) {
        twilio::HttpResponse res = transport(ping(server.port()));
        ASSERT_EQ(res.failure, twilio::TransportFailure::None) << res.failureMessage;
        EXPECT_EQ(res.status, 200);
    }
    EXPECT_EQ(server.connections(), 1u);
}

TEST(TwilioTransport, EachThreadKeepsItsOwnConnection)
{
    PingServer server;
    ASSERT_GT(server.port(), 0);
    twilio::Transport transport = twilio::MakeCurlTransport({"AC00000000000000000000000000000000", "token"});
    std::atomic<int> ok{0};
    auto three_requests = [&] {
        for (int i = 0; i < 3; ++i) {
            twilio::HttpResponse res = transport(ping(server.port()));
            if (res.failure == twilio::TransportFailure::None && res.status == 200)
                ++ok;
        }
    };
    std::thread a(three_requests), b(three_requests);
    a.join();
    b.join();
    EXPECT_EQ(ok.load(), 6);
    EXPECT_EQ(server.connections(), 2u);
}

TEST(TwilioTransport, AConnectionTheServerClosedIsReplaced)
{
    PingServer server;
    ASSERT_GT(server.port(), 0);
    server.server().set_keep_alive_max_count(1);  // the server closes after every answer
    twilio::Transport transport = twilio::MakeCurlTransport({"AC00000000000000000000000000000000", "token"});
    for (int i = 0; i < 3; ++i) {
        twilio::HttpResponse res = transport(ping(server.port()));
        ASSERT_EQ(res.failure, twilio::TransportFailure::None) << res.failureMessage;
        EXPECT_EQ(res.status, 200);
    }
    EXPECT_EQ(server.connections(), 3u);
}

}  // namespace
}  // namespace nw
