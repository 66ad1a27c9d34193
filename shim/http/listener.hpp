// Binding a cpp-httplib server the way a service should listen.
#pragma once

#include <string>

#include <httplib.h>

namespace nw::http {

// Binds `server` to host:port (port 0: any free port) and returns the bound
// port, or -1. Debian's cpp-httplib 0.11.4 sets SO_REUSEPORT on listening
// sockets, so a second server on the same port would silently share it (and
// half the requests); this sets SO_REUSEADDR only, so the second bind fails.
// 0.11.4 also listens with a backlog of 5: a burst of new connections then
// loses SYNs and waits a second for the retransmit. The backlog is raised to
// SOMAXCONN (listen() again on a listening socket updates it on Linux).
int BindListener(httplib::Server &server, const std::string &host, int port);

}  // namespace nw::http
