// A Twilio buy is sent at most once (issue: libcurl resends a request, POST
// included, on a new connection when a reused kept-alive connection dies
// before any byte of the answer). A raw local server answers every GET and
// keeps the connection alive, but closes the connection on a POST without
// answering: a resend would show as a second POST.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "twilio/client.hpp"
#include "twilio/http.hpp"

namespace nw::twilio {
namespace {

constexpr const char *kAccount = "AC00000000000000000000000000000000";

class DroppingServer {
public:
    DroppingServer()
    {
        listener_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof addr;
        if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
            listen(listener_, 16) != 0 || getsockname(listener_, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
            return;
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { AcceptLoop(); });
    }
    ~DroppingServer()
    {
        stop_ = true;
        if (acceptor_.joinable())
            acceptor_.join();
        for (auto &t : handlers_)
            t.join();
        if (listener_ >= 0)
            close(listener_);
    }
    int port() const { return port_; }
    int posts() const { return posts_; }
    int gets() const { return gets_; }
    int connections() const { return connections_; }

private:
    void AcceptLoop()
    {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0)
                continue;
            const int fd = accept(listener_, nullptr, nullptr);
            if (fd < 0)
                continue;
            ++connections_;
            std::lock_guard<std::mutex> lock(mutex_);
            handlers_.emplace_back([this, fd] { Serve(fd); });
        }
    }

    // Requests on one connection: GETs are answered (kept alive), a POST is
    // read whole and the connection closed without a byte of answer.
    void Serve(int fd)
    {
        std::string buffer;
        char chunk[4096];
        while (!stop_) {
            const std::size_t end = buffer.find("\r\n\r\n");
            if (end == std::string::npos) {
                pollfd p{fd, POLLIN, 0};
                if (poll(&p, 1, 20) <= 0)
                    continue;
                const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0)
                    break;
                buffer.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            const std::string head = buffer.substr(0, end);
            if (head.rfind("POST ", 0) == 0) {
                ++posts_;
                break;  // close without answering
            }
            buffer.erase(0, end + 4);
            ++gets_;
            const std::string body = R"({"available_phone_numbers":[]})";
            const std::string answer =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body;
            if (send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(answer.size()))
                break;
        }
        close(fd);
    }

    int listener_ = -1;
    int port_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> posts_{0}, gets_{0}, connections_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> handlers_;
};

HttpRequest request(int port, const std::string &method, bool fresh)
{
    HttpRequest req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/2010-04-01/Accounts/" + kAccount + "/x.json";
    req.body = method == "POST" ? "PhoneNumber=%2B14155550100" : "";
    req.timeoutMs = 5000;
    req.connectTimeoutMs = 2000;
    req.freshConnection = fresh;
    return req;
}

TEST(TwilioBuyOnce, ABuyThroughTheClientIsSentOnceWhenTheConnectionDies)
{
    DroppingServer server;
    ASSERT_GT(server.port(), 0);
    Config config;
    config.apiBase = "http://127.0.0.1:" + std::to_string(server.port());
    config.accountSid = kAccount;
    config.authToken = "token";
    config.timeoutMs = 5000;
    Client client(config);
    // A search leaves a kept-alive connection in this thread's handle...
    ASSERT_TRUE(client.search("US", std::nullopt, std::nullopt, 5).IsOk());
    // ...which the buy must not use: on it, libcurl would resend the POST.
    const BuyOutcome outcome = client.buy("+14155550100", "a7c4f3f0-2b7e-4d8a-9c1e-0f5b6a7d8e9f");
    EXPECT_TRUE(std::holds_alternative<Unknown>(outcome)) << describe(outcome);
    EXPECT_EQ(server.posts(), 1);
    EXPECT_EQ(server.connections(), 2);  // the search's, and the buy's own
}

TEST(TwilioBuyOnce, AFreshConnectionIsNeitherReusedNorKept)
{
    DroppingServer server;
    ASSERT_GT(server.port(), 0);
    Transport transport = MakeCurlTransport({kAccount, "token"});
    ASSERT_EQ(transport(request(server.port(), "GET", false)).failure, TransportFailure::None);
    const HttpResponse lost = transport(request(server.port(), "POST", true));
    EXPECT_EQ(lost.failure, TransportFailure::ConnectionLost) << lost.failureMessage;
    EXPECT_EQ(server.posts(), 1);
    EXPECT_EQ(server.connections(), 2);
    // A fresh GET is answered on a connection of its own, which is not kept...
    ASSERT_EQ(transport(request(server.port(), "GET", true)).failure, TransportFailure::None);
    EXPECT_EQ(server.connections(), 3);
    // ...while the others go on with the first GET's kept-alive connection,
    // which the fresh requests neither used nor disturbed.
    ASSERT_EQ(transport(request(server.port(), "GET", false)).failure, TransportFailure::None);
    ASSERT_EQ(transport(request(server.port(), "GET", false)).failure, TransportFailure::None);
    EXPECT_EQ(server.connections(), 3);
    EXPECT_EQ(server.gets(), 4);
}

// What the buy is protected from: a POST on a reused connection that dies
// before the answer is sent again by libcurl on a new one.
TEST(TwilioBuyOnce, OnAReusedConnectionLibcurlWouldResendThePost)
{
    DroppingServer server;
    ASSERT_GT(server.port(), 0);
    Transport transport = MakeCurlTransport({kAccount, "token"});
    ASSERT_EQ(transport(request(server.port(), "GET", false)).failure, TransportFailure::None);
    transport(request(server.port(), "POST", false));
    EXPECT_EQ(server.posts(), 2);
}

}  // namespace
}  // namespace nw::twilio
