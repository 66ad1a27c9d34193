// fake-twilio: a local HTTP server that speaks the parts of Twilio's REST API
// 2010-04-01 the shim uses, with failures injected on demand (see control_api.hpp
// and the usage text below). For end-to-end tests only.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include "control_api.hpp"
#include "http/listener.hpp"
#include "shapes.hpp"
#include "state.hpp"
#include "twilio_api.hpp"

namespace {

void PrintUsage(std::ostream &out)
{
    out << "usage: fake-twilio [--port N] [--host 127.0.0.1] [--buy-delay-ms N] [--page-size N]\n"
           "                   [--account-sid AC…] [--auth-token T] [--api-key SK… --api-secret S]\n"
           "                   [--threads N] [--timeout-sleep-ms N]\n"
           "  --port 0 (the default) picks a free port. Prints \"listening on HOST:PORT\" once bound.\n"
           "  Defaults: account AC00000000000000000000000000000000, token fake-auth-token,\n"
           "            page size 3, 160 threads, timeout-sleep 30000 ms.\n"
           "Control API (JSON):\n"
           "  POST /__control/fail   {\"op\":\"search|buy|list|fetch|release\", "
           "\"mode\":\"21422|21421|20003|20404|500|503|\n"
           "                          timeout|timeout_after|lost_response|lost_response_drop|429|malformed\",\n"
           "                          \"phoneNumber\"?, \"sid\"?, \"count\"?: 1 (-1 = always), \"retryAfter\"?, "
           "\"sleepMs\"?}\n"
           "  POST /__control/reset  POST /__control/config {\"buyDelayMs\",\"pageSize\",\"timeoutSleepMs\",\n"
           "                          \"listPauseMs\" (an unfiltered list pauses before answering)}\n"
           "  GET  /__control/state  POST /__control/own {\"phoneNumber\",\"friendlyName\"}  POST /__control/disown "
           "{\"sid\"}\n";
}

bool ParseLong(const char *s, long min, long max, long &out)
{
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    out = v;
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    fake_twilio::Settings settings;
    std::string host = "127.0.0.1";
    long port = 0;
    long threads = 160;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            PrintUsage(std::cout);
            return 0;
        }
        if (i + 1 >= argc) {
            std::cerr << "fake-twilio: " << arg << " needs a value (or is unknown)\n";
            PrintUsage(std::cerr);
            return 2;
        }
        const char *value = argv[++i];
        long n = 0;
        bool ok = true;
        if (arg == "--port")
            ok = ParseLong(value, 0, 65535, port);
        else if (arg == "--host")
            host = value;
        else if (arg == "--buy-delay-ms")
            ok = ParseLong(value, 0, 600000, settings.buyDelayMs);
        else if (arg == "--timeout-sleep-ms")
            ok = ParseLong(value, 0, 600000, settings.timeoutSleepMs);
        else if (arg == "--page-size") {
            ok = ParseLong(value, 1, 1000, n);
            settings.pageSize = static_cast<int>(n);
        } else if (arg == "--threads")
            ok = ParseLong(value, 8, 4096, threads);
        else if (arg == "--account-sid")
            settings.accountSid = value;
        else if (arg == "--auth-token")
            settings.authToken = value;
        else if (arg == "--api-key")
            settings.apiKeySid = value;
        else if (arg == "--api-secret")
            settings.apiKeySecret = value;
        else {
            std::cerr << "fake-twilio: unknown option " << arg << "\n";
            PrintUsage(std::cerr);
            return 2;
        }
        if (!ok) {
            std::cerr << "fake-twilio: bad value for " << arg << ": " << value << "\n";
            return 2;
        }
    }

    // Block SIGINT/SIGTERM in every thread; one thread waits for them and stops the
    // server (calling stop() from a signal handler would not be async-signal-safe).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    fake_twilio::State state(settings);
    httplib::Server server;
    // Slow buys must not block others: a fixed pool well above 64 concurrent buys.
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server.set_read_timeout(10, 0);
    server.set_tcp_nodelay(true);  // else most answers wait 40 ms for a delayed ACK
    server.set_write_timeout(10, 0);
    server.set_payload_max_length(1 << 20);
    // Debian's cpp-httplib 0.11.4 would otherwise put the exception text in a header.
    server.set_exception_handler([](const httplib::Request &, httplib::Response &res, std::exception_ptr ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            std::cerr << "fake-twilio: handler error: " << e.what() << "\n";
        } catch (...) {
            std::cerr << "fake-twilio: handler error\n";
        }
        fake_twilio::SendError(res, 500, 20500);
    });
    // Unrouted paths and other bodiless errors get a Twilio-shaped body.
    server.set_error_handler([](const httplib::Request &, httplib::Response &res) {
        if (res.body.empty() && res.status != 204) {
            fake_twilio::SendError(res, res.status, res.status == 404 ? 20404 : 20001, "Request not handled");
        }
    });
    fake_twilio::RegisterTwilioRoutes(server, state);
    fake_twilio::RegisterControlRoutes(server, state);

    int bound = nw::http::BindListener(server, host, static_cast<int>(port));
    if (bound <= 0) {
        std::cerr << "fake-twilio: cannot bind " << host << ":" << port << "\n";
        return 1;
    }

    std::thread signal_waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        state.stop();
        server.stop();
    });

    std::cout << "listening on " << host << ":" << bound << std::endl;
    bool ok = server.listen_after_bind();
    // If the server ended on its own, wake the waiter (the signal is blocked, so
    // only sigwait sees it) before State goes away.
    kill(getpid(), SIGTERM);
    signal_waiter.join();
    return ok ? 0 : 1;
}
