#pragma once
// The daemon's local HTTP endpoint for health checks and metrics: GET and HEAD
// only, served on a thread of its own so that a slow scrape never delays a
// cycle. Beast stays inside http_endpoint.cpp; its headers are heavy.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ewsd::daemon {

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

// Called on the endpoint's own thread for each GET/HEAD; must be thread-safe.
// `path` is the request target without its query string.
using HttpHandler = std::function<HttpResponse(std::string_view path)>;

class HttpEndpoint {
public:
    // Binds address:port (port 0 = an ephemeral port) and starts serving;
    // throws std::runtime_error with one line, e.g. "cannot listen on
    // 127.0.0.1:9188: Address already in use".
    HttpEndpoint(const std::string& address, std::uint16_t port, HttpHandler handler);
    ~HttpEndpoint(); // stops and joins
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    [[nodiscard]] std::uint16_t port() const; // the bound port

    // Closes the listener and every connection and joins the thread.
    // Idempotent; prompt even with idle or slow clients connected (it waits
    // only for a handler call in progress). From the handler: std::logic_error.
    void stop();

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace ewsd::daemon
