// See server.hpp.
#include "http/server.hpp"

#include <csignal>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "http/connection.hpp"
#include "http/listener.hpp"
#include "http/reply.hpp"
#include "http/request_checks.hpp"
#include "http/routes.hpp"
#include "saga/sagas.hpp"
#include "util/log.hpp"

namespace nw::http {
namespace {

// At least 64 purchases in flight: each waits on the provider in its own thread.
constexpr int kWorkerThreads = 160;

void ConfigureServer(App &app, httplib::Server &server)
{
    server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
    server.set_read_timeout(10, 0);
    server.set_write_timeout(10, 0);
    server.set_keep_alive_timeout(5);
    server.set_keep_alive_max_count(1000);  // 0.11.4 closes a connection after 5 requests by default
    // Responses go out in two writes (headers, body): without TCP_NODELAY most
    // wait 40 ms for a delayed ACK.
    server.set_tcp_nodelay(true);
    server.set_payload_max_length(kMaxBodyBytes);
    server.set_pre_routing_handler([&app](const httplib::Request &req, httplib::Response &res) {
        return PreRoute(app, req, res) ? httplib::Server::HandlerResponse::Handled
                                       : httplib::Server::HandlerResponse::Unhandled;
    });
    // `Expect: 100-continue` would make 0.11.4 invite the body before PreRoute
    // runs: a method that is refused anyway is refused instead of invited.
    server.set_expect_100_continue_handler([](const httplib::Request &req, httplib::Response &res) {
        if (IsAllowedMethod(req.method))
            return 100;
        RefuseMethod(res);
        return 405;
    });
    // Every answer (httplib's own 400/414 too): end the connection when a body
    // was left unread or the request could not be parsed.
    server.set_post_routing_handler(DecideConnection);
    // Debian's 0.11.4 would otherwise put the exception's text in a header.
    // This handler and the access log below read the pipeline's per-thread
    // RequestState (request id, start time); the route handlers never do:
    // they get everything, the Caller included, as arguments (http/caller.hpp).
    server.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            log::Error("unhandled exception in a route", {{"requestId", Current().request_id}, {"what", e.what()}});
        } catch (...) {
            log::Error("unhandled non-standard exception in a route", {{"requestId", Current().request_id}});
        }
        SendJson(res, 500, {{"error", "internal error"}, {"code", "INTERNAL"}});
    });
    server.set_error_handler([](const httplib::Request &req, httplib::Response &res) {
        // 0.11.4's parser refuses methods it does not know (400) before
        // PreRoute runs; the contract answers every method but five with 405.
        if (!CurrentConnection().pre_routed && res.status == 400 && !req.method.empty() &&
            !IsAllowedMethod(req.method) && (req.version == "HTTP/1.1" || req.version == "HTTP/1.0")) {
            RefuseMethod(res);
            return;
        }
        if (!res.body.empty())
            return;
        if (res.status == 404)
            SendJson(res, 404, {{"error", "not found"}, {"code", "NOT_FOUND"}});
        else if (res.status == 413)
            SendJson(res, 413, {{"error", "request bodies are limited to 64 KiB"}, {"code", "PAYLOAD_TOO_LARGE"}});
        else if (res.status >= 400 && res.status < 500)
            SendJson(res, res.status, {{"error", "bad request"}, {"code", "INVALID_REQUEST"}});
        else
            SendJson(res, res.status, {{"error", "internal error"}, {"code", "INTERNAL"}});
    });
    server.set_logger([&app](const httplib::Request &req, const httplib::Response &res) {
        // A request httplib refused before PreRoute has no request id or start
        // time of its own (the thread's are from its previous request).
        const bool checked = CurrentConnection().pre_routed;
        const RequestState &state = Current();
        const auto ms = checked ? std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - state.started)
                                          .count() /
                                      1000.0
                                : 0.0;
        const char *route = RouteTemplate(req.path);
        app.metrics.Inc("nw_http_requests_total", metrics::HttpRequestLabels(route, res.status));
        app.metrics.Inc("nw_http_request_methods_total",
                        std::string("method=\"") + metrics::MethodLabel(req.method) + "\"");
        if (checked)  // a request refused by httplib itself has no start time
            app.metrics.Observe("nw_http_request_duration_seconds", std::string("route=\"") + route + "\"",
                                ms / 1000.0);
        log::Info("request", {{"requestId", checked ? state.request_id : std::string()},
                              {"method", req.method},
                              {"path", req.path},
                              {"status", res.status},
                              {"ms", ms}});
    });
    RegisterRoutes(app, server);
}

}  // namespace

int Serve(App &app)
{
    // No cap on descriptors: Debian's libcpp-httplib 0.11.4 is built with
    // CPPHTTPLIB_USE_POLL (its select_read/select_write call poll(), the
    // library imports no select()), connection.cpp waits with poll() too, and
    // libpq and libcurl use poll(). A descriptor above FD_SETSIZE is safe.

    // Signals go to one thread that stops the server: in-flight requests finish.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    ShimServer server;
    ConfigureServer(app, server);
    const int port = BindListener(server, app.config.bind_address, app.config.port);
    if (port < 0) {
        log::Error("could not listen", {{"address", app.config.bind_address}, {"port", app.config.port}});
        return 1;
    }

    std::atomic<bool> stopping{false};
    std::mutex mutex;
    std::condition_variable wake;
    std::thread signal_thread([&] {
        int received = 0;
        sigwait(&signals, &received);
        log::Info("shutting down", {{"signal", received}});
        stopping = true;
        wake.notify_all();
        server.stop();
    });
    std::thread reconciler([&] {
        auto last_sweep = std::chrono::steady_clock::now() - std::chrono::hours(2);
        std::unique_lock<std::mutex> lock(mutex);
        while (!wake.wait_for(lock, std::chrono::seconds(app.config.reconcile_interval_seconds),
                              [&] { return stopping.load(); })) {
            lock.unlock();
            const bool sweep = std::chrono::steady_clock::now() - last_sweep > std::chrono::hours(1);
            try {
                const saga::ReconcileReport report = saga::Reconcile(app, /*wait_for_lock=*/false, sweep);
                if (report.swept)
                    last_sweep = std::chrono::steady_clock::now();
            } catch (const std::exception &e) {
                log::Error("reconcile pass failed", {{"what", e.what()}});
            }
            lock.lock();
        }
    });

    log::Info("listening", {{"address", app.config.bind_address},
                            {"port", port},
                            {"twilio", app.config.twilio_testing_mode ? "testing" : "live"}});
    server.listen_after_bind();
    // listen returned: either stop() ran or listening failed; make sure both threads end.
    if (!stopping) {
        stopping = true;
        wake.notify_all();
        pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();
    reconciler.join();
    log::Info("stopped");
    return 0;
}

}  // namespace nw::http
