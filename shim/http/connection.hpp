// How the shim holds a client connection: cpp-httplib 0.11.4's per-connection
// loop, replaced so that a connection whose request body was left unread is
// closed instead of being parsed further.
//
// Why: 0.11.4 keeps a connection alive after any answer unless the *client*
// asked for `Connection: close`; a `Connection: close` response header set by
// a handler changes nothing. A request refused before its body was read (401,
// 405, 411, 413, 415, 416, 429…) or a GET carrying a body left those bytes on
// the connection, and 0.11.4 parsed them as the next request: behind a proxy
// that reuses upstream connections, a client could smuggle a request that way.
// 0.11.4 also makes a new SocketStream per request, so bytes it had read ahead
// (a pipelined request) were dropped; here one stream lives as long as the
// connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <httplib.h>

namespace nw::http {

// Per request, on the thread that serves it (httplib runs a connection's
// requests one after another on one worker thread); ShimServer resets it
// before each request.
struct ConnectionState {
    bool pre_routed = false;   // PreRoute ran: httplib parsed the request line and headers
    bool close_after = false;  // the answer says Connection: close and the connection ends
};
ConnectionState &CurrentConnection();

// True when bytes of this request's body are still unread on the connection:
// a body was announced (Content-Length > 0, or any Transfer-Encoding) and
// httplib did not read all of it into req.body.
bool BodyLeftUnread(const httplib::Request &req);

// The post-routing step for every answer (httplib's own 400/414 included):
// decides whether the connection must end and says so in the answer.
void DecideConnection(const httplib::Request &req, httplib::Response &res);

// Limits of one connection, besides httplib's read/write timeouts (which apply
// per read or write call).
struct ConnectionLimits {
    // Bytes one request may make the server read (request line, headers and
    // body). 0.11.4 bounds neither the header count nor a header line.
    std::size_t request_bytes = 256 * 1024;
    // Time from a request's first byte until its last byte must have been read
    // (a client sending one byte every few seconds holds a worker thread).
    std::chrono::milliseconds request_read_time{30000};
    // After an answer that closes the connection with a body unread: how long
    // and how much the server keeps reading and discarding, so that the client
    // gets the answer instead of a reset (closing a socket with unread bytes
    // sends RST, which can destroy the answer in flight).
    std::chrono::milliseconds linger_time{2000};
    std::size_t linger_bytes = 1024 * 1024;
};

class ShimServer : public httplib::Server {
public:
    ShimServer() = default;
    explicit ShimServer(const ConnectionLimits &limits) : limits_(limits) {}

private:
    bool process_and_close_socket(socket_t sock) override;

    ConnectionLimits limits_;
};

}  // namespace nw::http
