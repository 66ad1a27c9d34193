// How the shim holds a connection (http/connection.hpp), on a local server
// with the shim's connection loop and post-routing decision but no database:
// a body left unread is never parsed as the next request, the connection then
// ends with the answer intact, pipelined requests are all answered, and one
// request cannot make the server read without bound.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "http/connection.hpp"
#include "http/listener.hpp"

namespace nw {
namespace {

using Clock = std::chrono::steady_clock;

// POST /refuse is refused before its body (as PreRoute refuses a request
// without a token); GET /ok answers "ok".
class Server {
public:
    Server()
    {
        server_.set_keep_alive_max_count(100);
        server_.set_keep_alive_timeout(2);
        server_.set_read_timeout(2, 0);
        server_.set_pre_routing_handler([](const httplib::Request &req, httplib::Response &res) {
            http::CurrentConnection().pre_routed = true;
            if (req.path == "/refuse") {
                res.status = 401;
                res.set_content("{\"code\":\"UNAUTHORIZED\"}", "application/json");
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        server_.set_post_routing_handler(http::DecideConnection);
        server_.Get("/ok",
                    [](const httplib::Request &, httplib::Response &res) { res.set_content("ok", "text/plain"); });
        server_.Post("/echo", [](const httplib::Request &req, httplib::Response &res) {
            res.set_content(req.body, "text/plain");
        });
        port_ = http::BindListener(server_, "127.0.0.1", 0);
        if (port_ > 0)
            thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 500 && port_ > 0 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ~Server()
    {
        server_.stop();
        if (thread_.joinable())
            thread_.join();
    }
    int port() const { return port_; }

private:
    http::ShimServer server_;
    std::thread thread_;
    int port_ = -1;
};

int Connect(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool SendAll(int fd, const std::string &data)
{
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads until the server closes the connection or `limit` passes. *closed says which.
std::string ReadAll(int fd, std::chrono::milliseconds limit, bool *closed)
{
    std::string out;
    const auto until = Clock::now() + limit;
    *closed = false;
    char buf[8192];
    while (Clock::now() < until) {
        pollfd pfd{fd, POLLIN, 0};
        const int ms =
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
        if (::poll(&pfd, 1, ms < 0 ? 0 : ms) <= 0)
            break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

int CountAnswers(const std::string &raw)
{
    int n = 0;
    for (std::size_t at = raw.find("HTTP/1.1 "); at != std::string::npos; at = raw.find("HTTP/1.1 ", at + 1))
        ++n;
    return n;
}

const std::string kSmuggled = "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(ShimConnection, ARefusedBodyIsNeverParsedAsTheNextRequest)
{
    Server server;
    ASSERT_GT(server.port(), 0);
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    SendAll(fd, "POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kSmuggled.size()) + "\r\n\r\n");
    // The body arrives after the answer, on its own (as through a proxy).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    SendAll(fd, kSmuggled);
    bool closed = false;
    const std::string raw = ReadAll(fd, std::chrono::milliseconds(3000), &closed);
    ::close(fd);
    EXPECT_EQ(CountAnswers(raw), 1) << raw;
    EXPECT_EQ(raw.rfind("HTTP/1.1 401", 0), 0u) << raw;
    EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos) << raw;
    EXPECT_EQ(raw.find("Keep-Alive"), std::string::npos) << raw;
    EXPECT_TRUE(closed);
}

TEST(ShimConnection, AGetBodyClosesTheConnectionAfterTheAnswer)
{
    Server server;
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /ok HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kSmuggled.size()) + "\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    SendAll(fd, kSmuggled);
    bool closed = false;
    const std::string raw = ReadAll(fd, std::chrono::milliseconds(3000), &closed);
    ::close(fd);
    EXPECT_EQ(CountAnswers(raw), 1) << raw;
    EXPECT_TRUE(closed);
}

TEST(ShimConnection, AClientStillSendingItsBodyGetsTheAnswer)
{
    // Closing a socket with unread bytes sends RST: a client still sending its
    // body (as curl does after a refusal) then fails with "connection reset"
    // instead of reading the answer. The lingering close reads and drops up to
    // 1 MiB first.
    Server server;
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    const std::string body(512 * 1024, 'x');
    bool body_sent = false;
    std::thread writer([&] {
        SendAll(fd, "POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the answer is out
        body_sent = true;
        for (std::size_t at = 0; at < body.size() && body_sent; at += 64 * 1024) {
            body_sent = SendAll(fd, body.substr(at, 64 * 1024));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // time for a reset to come back
        }
    });
    writer.join();
    bool closed = false;
    const std::string raw = ReadAll(fd, std::chrono::milliseconds(3000), &closed);
    ::close(fd);
    EXPECT_TRUE(body_sent);
    EXPECT_EQ(raw.rfind("HTTP/1.1 401", 0), 0u) << raw.substr(0, 200);
    EXPECT_NE(raw.find("{\"code\":\"UNAUTHORIZED\"}"), std::string::npos) << raw.substr(0, 400);
    EXPECT_TRUE(closed);
}

TEST(ShimConnection, ReadBodiesKeepTheConnectionAndPipelinedRequestsAreAllAnswered)
{
    Server server;
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    // 0.11.4 made a new stream per request and dropped what it had read ahead.
    SendAll(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" + kSmuggled +
                    "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    bool closed = false;
    const std::string raw = ReadAll(fd, std::chrono::milliseconds(3000), &closed);
    ::close(fd);
    EXPECT_EQ(CountAnswers(raw), 3) << raw;
    EXPECT_NE(raw.find("hello"), std::string::npos) << raw;
    EXPECT_TRUE(closed);
}

TEST(ShimConnection, ARequestCannotMakeTheServerReadWithoutBound)
{
    Server server;
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    std::thread writer([&] {
        SendAll(fd, "GET /ok HTTP/1.1\r\nHost: t\r\n");
        const std::string header = "X-Filler: " + std::string(1000, 'y') + "\r\n";
        for (int i = 0; i < 2000; ++i)  // 2 MB of headers, far past the 256 KiB a request may be
            SendAll(fd, header);
    });
    bool closed = false;
    const auto started = Clock::now();
    const std::string raw = ReadAll(fd, std::chrono::milliseconds(5000), &closed);
    ::shutdown(fd, SHUT_RDWR);
    writer.join();
    ::close(fd);
    EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw.substr(0, 200);
    EXPECT_TRUE(closed);
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
}

TEST(ShimConnection, ServesConnectionsAboveFdSetSize)
{
    // The shim sets no descriptor cap: Debian's libcpp-httplib waits with
    // poll() (built with CPPHTTPLIB_USE_POLL). A select() build would answer
    // 500 on a socket at or above FD_SETSIZE; this test would then fail.
    rlimit saved{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    const rlim_t want = FD_SETSIZE + 64;
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < want)
        GTEST_SKIP() << "the hard descriptor limit is below " << want;
    rlimit raised = saved;
    raised.rlim_cur = std::max<rlim_t>(saved.rlim_cur, want);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &raised), 0);
    std::vector<int> filler;
    for (int fd = ::open("/dev/null", O_RDONLY); fd >= 0 && fd < FD_SETSIZE + 8; fd = ::open("/dev/null", O_RDONLY))
        filler.push_back(fd);
    {
        Server server;  // its listening and accepted sockets are above FD_SETSIZE
        ASSERT_GT(server.port(), 0);
        const int fd = Connect(server.port());
        ASSERT_GE(fd, FD_SETSIZE);
        SendAll(fd, "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        bool closed = false;
        const std::string raw = ReadAll(fd, std::chrono::milliseconds(3000), &closed);
        ::close(fd);
        EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
    }
    for (int fd : filler)
        ::close(fd);
    setrlimit(RLIMIT_NOFILE, &saved);
}

httplib::Request WithHeaders(std::initializer_list<std::pair<const char *, const char *>> headers,
                             std::string body = "")
{
    httplib::Request req;
    for (const auto &[name, value] : headers)
        req.headers.emplace(name, value);
    req.body = std::move(body);
    return req;
}

TEST(ShimConnection, BodyLeftUnread)
{
    EXPECT_FALSE(http::BodyLeftUnread(WithHeaders({})));
    EXPECT_FALSE(http::BodyLeftUnread(WithHeaders({{"Content-Length", "0"}})));
    EXPECT_FALSE(http::BodyLeftUnread(WithHeaders({{"Content-Length", "5"}}, "hello")));
    EXPECT_TRUE(http::BodyLeftUnread(WithHeaders({{"Content-Length", "5"}})));
    EXPECT_TRUE(http::BodyLeftUnread(WithHeaders({{"Content-Length", "x"}})));
    EXPECT_TRUE(http::BodyLeftUnread(WithHeaders({{"Content-Length", "5"}, {"Content-Length", "5"}}, "hello")));
    EXPECT_TRUE(http::BodyLeftUnread(WithHeaders({{"Transfer-Encoding", "chunked"}})));
}

}  // namespace
}  // namespace nw
