// See server.hpp.
#include "http/server.hpp"

#include <csignal>
#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <thread>

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
    // Debian's 0.11.4 would otherwise put the exception's text in a header.
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
    server.set_error_handler([](const httplib::Request &, httplib::Response &res) {
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
        const RequestState &state = Current();
        const auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                              state.started)
                            .count() / 1000.0;
        app.metrics.Inc("nw_http_requests_total", "method=\"" + req.method + "\",status=\"" +
                                                      std::to_string(res.status) + "\"");
        log::Info("request", {{"requestId", state.request_id}, {"method", req.method}, {"path", req.path},
                              {"status", res.status}, {"ms", ms}});
    });
    RegisterRoutes(app, server);
}

}  // namespace

int Serve(App &app)
{
    // Debian's cpp-httplib 0.11.4 waits on sockets with select(): a descriptor
    // at or above FD_SETSIZE (1024) would corrupt memory. Capping the limit makes
    // accept() fail (and be retried) instead.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur > FD_SETSIZE) {
        files.rlim_cur = FD_SETSIZE;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    // Signals go to one thread that stops the server: in-flight requests finish.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    httplib::Server server;
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
