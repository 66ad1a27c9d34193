// See listener.hpp.
#include "http/listener.hpp"

#include <sys/socket.h>

namespace nw::http {

int BindListener(httplib::Server &server, const std::string &host, int port)
{
    int listening = -1;
    server.set_socket_options([&listening](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listening = sock;  // the last socket tried is the one that got bound
    });
    int bound = -1;
    if (port == 0)
        bound = server.bind_to_any_port(host);
    else if (server.bind_to_port(host, port))
        bound = port;
    server.set_socket_options(httplib::default_socket_options);  // later sockets are not ours to track
    if (bound <= 0)
        return -1;
    if (listening >= 0 && ::listen(listening, SOMAXCONN) != 0)
        return -1;
    return bound;
}

}  // namespace nw::http
