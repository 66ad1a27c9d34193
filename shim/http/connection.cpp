// See connection.hpp.
#include "http/connection.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace nw::http {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `sock` is readable (or writable) for at most `timeout`; > 0 ready, 0 timed out, < 0 error.
int WaitFor(int sock, short events, std::chrono::milliseconds timeout)
{
    pollfd pfd{};
    pfd.fd = sock;
    pfd.events = events;
    const int ms = static_cast<int>(std::max<long long>(0, timeout.count()));
    int r;
    do {
        r = ::poll(&pfd, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r;
}

void IpAndPort(const sockaddr_storage &addr, socklen_t len, std::string &ip, int &port)
{
    if (addr.ss_family == AF_INET)
        port = ntohs(reinterpret_cast<const sockaddr_in *>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
        port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&addr)->sin6_port);
    else
        return;
    char host[NI_MAXHOST] = {};
    if (getnameinfo(reinterpret_cast<const sockaddr *>(&addr), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0)
        ip = host;
}

// One stream for the whole connection (0.11.4 made one per request and lost
// what it had read ahead). Each request gets a byte budget and a read deadline.
class ConnectionStream final : public httplib::Stream {
public:
    ConnectionStream(int sock, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout)
        : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout), buffer_(16 * 1024)
    {
    }

    void StartRequest(std::size_t budget, std::chrono::milliseconds read_time)
    {
        budget_ = budget;
        read_deadline_ = Clock::now() + read_time;
    }
    bool HasBuffered() const { return begin_ < end_; }

    bool is_readable() const override { return HasBuffered() || WaitFor(sock_, POLLIN, ReadWait()) > 0; }
    bool is_writable() const override { return WaitFor(sock_, POLLOUT, write_timeout_) > 0; }

    ssize_t read(char *ptr, size_t size) override
    {
        if (budget_ == 0)
            return -1;  // the request is larger than a request may be
        size = std::min(size, budget_);
        if (!HasBuffered()) {
            if (Clock::now() >= read_deadline_ || WaitFor(sock_, POLLIN, ReadWait()) <= 0)
                return -1;
            ssize_t n;
            do {
                n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
            } while (n < 0 && errno == EINTR);
            if (n <= 0)
                return n;
            begin_ = 0;
            end_ = static_cast<std::size_t>(n);
        }
        const std::size_t n = std::min(size, end_ - begin_);
        std::memcpy(ptr, buffer_.data() + begin_, n);
        begin_ += n;
        budget_ -= n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char *ptr, size_t size) override
    {
        if (!is_writable())
            return -1;
        ssize_t n;
        do {
            n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        return n;
    }

    void get_remote_ip_and_port(std::string &ip, int &port) const override
    {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getpeername(sock_, reinterpret_cast<sockaddr *>(&addr), &len) == 0)
            IpAndPort(addr, len, ip, port);
    }
    void get_local_ip_and_port(std::string &ip, int &port) const override
    {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getsockname(sock_, reinterpret_cast<sockaddr *>(&addr), &len) == 0)
            IpAndPort(addr, len, ip, port);
    }
    socket_t socket() const override { return sock_; }

private:
    std::chrono::milliseconds ReadWait() const
    {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - Clock::now());
        return std::max(std::chrono::milliseconds(0), std::min(read_timeout_, left));
    }

    int sock_;
    std::chrono::milliseconds read_timeout_;
    std::chrono::milliseconds write_timeout_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t budget_ = 0;
    Clock::time_point read_deadline_{};
};

// Waits for the next request of a kept-alive connection; false when the
// client stays silent for `idle` or the server is stopping.
bool NextRequestArrives(int sock, const std::atomic<socket_t> &listening, std::chrono::milliseconds idle)
{
    const auto until = Clock::now() + idle;
    while (listening != INVALID_SOCKET) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0)
            return false;
        // Short waits so that a stopping server does not wait out idle clients.
        const int r = WaitFor(sock, POLLIN, std::min(left, std::chrono::milliseconds(100)));
        if (r != 0)
            return r > 0;
    }
    return false;
}

// Ends a connection whose last request left bytes unread: the answer is
// already written; send FIN, then read and drop what the client still sends
// (bounded in time and bytes) so that the close does not reset the answer away.
void LingeringClose(int sock, const ConnectionLimits &limits)
{
    ::shutdown(sock, SHUT_WR);
    const auto until = Clock::now() + limits.linger_time;
    std::size_t drained = 0;
    char sink[16 * 1024];
    while (drained < limits.linger_bytes) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left.count() <= 0 || WaitFor(sock, POLLIN, left) <= 0)
            break;
        const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
        if (n <= 0)
            break;  // the client closed too (or reset)
        drained += static_cast<std::size_t>(n);
    }
    ::close(sock);
}

bool IsDigits(const std::string &s)
{
    return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ConnectionState &CurrentConnection()
{
    thread_local ConnectionState state;
    return state;
}

bool BodyLeftUnread(const httplib::Request &req)
{
    if (req.has_header("Transfer-Encoding"))
        return true;
    if (!req.has_header("Content-Length"))
        return false;
    if (req.get_header_value_count("Content-Length") != 1)
        return true;
    const std::string length = req.get_header_value("Content-Length");
    if (!IsDigits(length))
        return true;
    return std::stoull(length) != req.body.size();
}

void DecideConnection(const httplib::Request &req, httplib::Response &res)
{
    ConnectionState &state = CurrentConnection();
    // httplib refused the request line or headers itself (400, 414, 416): what
    // follows on the connection cannot be trusted to start a request.
    if (!state.pre_routed || BodyLeftUnread(req))
        state.close_after = true;
    if (!state.close_after && res.get_header_value("Connection") != "close")
        return;
    state.close_after = true;
    res.headers.erase("Keep-Alive");
    res.headers.erase("Connection");
    res.set_header("Connection", "close");
}

bool ShimServer::process_and_close_socket(socket_t sock)
{
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const auto read_timeout =
        std::chrono::duration_cast<milliseconds>(seconds(read_timeout_sec_)) + milliseconds(read_timeout_usec_ / 1000);
    const auto write_timeout = std::chrono::duration_cast<milliseconds>(seconds(write_timeout_sec_)) +
                               milliseconds(write_timeout_usec_ / 1000);
    ConnectionStream stream(sock, read_timeout, write_timeout);
    ConnectionState &state = CurrentConnection();
    bool ret = false;
    bool linger = false;
    // As 0.11.4's process_server_socket_core, with one stream per connection
    // and the shim's decision to close.
    for (std::size_t count = keep_alive_max_count_; count > 0; --count) {
        if (!stream.HasBuffered() &&
            !NextRequestArrives(sock, svr_sock_,
                                std::chrono::duration_cast<milliseconds>(seconds(keep_alive_timeout_sec_))))
            break;
        state = ConnectionState{};
        stream.StartRequest(limits_.request_bytes, limits_.request_read_time);
        bool client_closes = false;
        ret = process_request(stream, /*close_connection=*/count == 1, client_closes, nullptr);
        if (state.close_after) {
            linger = true;
            break;
        }
        if (!ret || client_closes)
            break;
    }
    state = ConnectionState{};
    if (linger) {
        LingeringClose(sock, limits_);
    } else {
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
    }
    return ret;
}

}  // namespace nw::http
