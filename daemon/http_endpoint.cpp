#include "daemon/http_endpoint.hpp"

#include "util/log.hpp"

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>

namespace ewsd::daemon {

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A whole request must arrive within this, which also ends idle keep-alive
// connections; a scrape is one small request, so 5 s is generous.
constexpr auto request_timeout = 5s;
constexpr auto write_timeout = 5s;
// How long a closing connection reads what the client still sends (see
// Session::close_after_response).
constexpr auto linger_timeout = 1s;
// Beyond this many open connections a new one is closed at once: a flood of
// idle clients costs the daemon no more descriptors than this.
constexpr std::size_t max_connections = 64;
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::size_t buffer_limit = std::size_t{2} * header_limit;
constexpr std::string_view plain_text = "text/plain; charset=utf-8";

std::string describe(const std::string& address, std::uint16_t port) {
    if (address.find(':') != std::string::npos) {
        return "[" + address + "]:" + std::to_string(port);
    }
    return address + ":" + std::to_string(port);
}

// Beast 1.74 speaks boost::string_view.
std::string_view to_std(beast::string_view s) {
    return {s.data(), s.size()};
}
beast::string_view to_beast(std::string_view s) {
    return {s.data(), s.size()};
}

bool is_http_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

class Session;
// The open connections, so that stop() can close them. Touched only on the
// endpoint's thread, or after it has been joined.
using Sessions = std::unordered_set<Session*>;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, const HttpHandler& handler, Sessions& sessions)
        : m_stream(std::move(socket)), m_handler(handler), m_sessions(sessions) {
        m_sessions.insert(this);
    }
    ~Session() { m_sessions.erase(this); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() { read_request(); }

    // Aborts whatever the connection is waiting for; its handlers then finish
    // with operation_aborted and release it.
    void close() { m_stream.close(); }

private:
    void read_request() {
        m_parser.emplace();
        m_parser->header_limit(header_limit);
        m_stream.expires_after(request_timeout);
        // Only the header: a body is refused, so it is never read.
        http::async_read_header(m_stream, m_buffer, *m_parser,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec == http::error::end_of_stream) {
            beast::error_code ignored;
            m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            return;
        }
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            return send_error(http::status::request_header_fields_too_large,
                              "request header too large\n");
        }
        if (ec && is_http_error(ec) && ec != http::error::partial_message) {
            return send_error(http::status::bad_request, "bad request\n");
        }
        if (ec) {
            return; // timeout (the stream is closed), reset, or stop()
        }
        respond();
    }

    void respond() {
        const auto& request = m_parser->get();
        const bool has_body = !m_parser->is_done();
        m_response = {};
        m_response.version(request.version());
        m_response.keep_alive(request.keep_alive() && !has_body);
        const http::verb method = request.method();
        if (method != http::verb::get && method != http::verb::head) {
            m_response.set(http::field::allow, "GET, HEAD");
            fill(405, plain_text, "method not allowed\n", false);
        } else if (has_body) {
            fill(413, plain_text, "request body not accepted\n", false);
        } else {
            const std::string_view target = to_std(request.target());
            const std::string_view path = target.substr(0, target.find('?'));
            HttpResponse response = call_handler(to_std(request.method_string()), path);
            fill(response.status, response.content_type, std::move(response.body),
                 method == http::verb::head);
        }
        write();
    }

    HttpResponse call_handler(std::string_view method, std::string_view path) {
        std::string failure;
        try {
            HttpResponse response = m_handler(path);
            if (response.status >= 200 && response.status <= 599) {
                return response;
            }
            failure = "invalid status " + std::to_string(response.status);
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "unknown exception";
        }
        util::log::error("http: " + std::string(method) + " " + std::string(path) + ": " + failure);
        return {500, std::string(plain_text), "internal error\n"};
    }

    void send_error(http::status status, std::string_view body) {
        m_response = {};
        m_response.version(11);
        m_response.keep_alive(false);
        fill(static_cast<int>(status), plain_text, std::string(body), false);
        write();
    }

    void fill(int status, std::string_view content_type, std::string body, bool head) {
        m_response.result(static_cast<unsigned>(status));
        m_response.set(http::field::server, "ewsd");
        m_response.set(http::field::cache_control, "no-store");
        m_response.set(http::field::content_type, to_beast(content_type));
        // HEAD announces the length GET would send, without the body.
        m_response.content_length(body.size());
        if (!head) {
            m_response.body() = std::move(body);
        }
    }

    void write() {
        m_stream.expires_after(write_timeout);
        http::async_write(
            m_stream, m_response,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        if (ec) {
            return;
        }
        if (m_response.keep_alive()) {
            return read_request();
        }
        close_after_response();
    }

    // Closing a socket with unread data (a refused body) makes the kernel
    // send a reset, which can make the client discard the response it has
    // not read yet; so: FIN first, then read until the client closes too.
    void close_after_response() {
        beast::error_code ignored;
        m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        m_stream.expires_after(linger_timeout);
        drain();
    }

    void drain() {
        m_stream.async_read_some(net::buffer(m_scratch),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (!ec) {
                                         self->drain();
                                     }
                                 });
    }

    beast::tcp_stream m_stream;
    const HttpHandler& m_handler;
    Sessions& m_sessions;
    beast::flat_buffer m_buffer{buffer_limit};
    std::optional<http::request_parser<http::empty_body>> m_parser;
    http::response<http::string_body> m_response;
    std::array<char, 1024> m_scratch{};
};

} // namespace

class HttpEndpoint::Impl {
public:
    Impl(const std::string& address, std::uint16_t port, HttpHandler handler)
        : m_handler(std::move(handler)) {
        const std::string where = describe(address, port);
        const tcp::endpoint endpoint = resolve(address, port, where);
        beast::error_code ec;
        m_acceptor.open(endpoint.protocol(), ec);
        if (!ec) {
            // Lets a restarted daemon bind while old connections sit in TIME_WAIT.
            m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
        }
        if (!ec) {
            m_acceptor.bind(endpoint, ec);
        }
        if (!ec) {
            m_acceptor.listen(net::socket_base::max_listen_connections, ec);
        }
        if (ec) {
            throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
        }
        m_port = m_acceptor.local_endpoint().port();
        accept();
        m_thread = std::thread([this] { run(); });
    }

    ~Impl() {
        try {
            stop();
        } catch (const std::exception& e) {
            // Destroyed from its own handler: a bug; the thread's destructor terminates.
            util::log::error(std::string("http: ") + e.what());
        }
    }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    [[nodiscard]] std::uint16_t port() const { return m_port; }

    void stop() {
        if (std::this_thread::get_id() == m_thread.get_id()) {
            throw std::logic_error("HttpEndpoint::stop() called from its own handler");
        }
        std::call_once(m_stop_once, [this] {
            // Closing everything leaves the io_context without work, so run()
            // returns; no connection is waited for.
            net::post(m_io, [this] {
                m_stopping = true;
                beast::error_code ignored;
                m_acceptor.close(ignored);
                m_retry.cancel();
                for (Session* session : m_sessions) {
                    session->close();
                }
            });
            if (m_thread.joinable()) {
                m_thread.join();
            }
        });
    }

private:
    tcp::endpoint resolve(const std::string& address, std::uint16_t port,
                          const std::string& where) {
        beast::error_code ec;
        const net::ip::address ip = net::ip::make_address(address, ec);
        if (!ec) {
            return {ip, port};
        }
        // A host name such as "localhost": its first address.
        tcp::resolver resolver(m_io);
        const auto results =
            resolver.resolve(address, std::to_string(port), tcp::resolver::numeric_service, ec);
        if (ec || results.empty()) {
            throw std::runtime_error("cannot listen on " + where + ": " +
                                     (ec ? ec.message() : "no address"));
        }
        return results.begin()->endpoint();
    }

    void accept() {
        m_acceptor.async_accept(m_io, [this](beast::error_code ec, tcp::socket socket) {
            on_accept(ec, std::move(socket));
        });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (m_stopping || ec == net::error::operation_aborted) {
            return;
        }
        if (ec) {
            // Out of descriptors and the like: retry shortly instead of spinning.
            util::log::warning("http: accept failed: " + ec.message());
            m_retry.expires_after(100ms);
            m_retry.async_wait([this](beast::error_code wait_ec) {
                if (!wait_ec && !m_stopping) {
                    accept();
                }
            });
            return;
        }
        if (m_sessions.size() < max_connections) {
            std::make_shared<Session>(std::move(socket), m_handler, m_sessions)->start();
        }
        accept();
    }

    void run() {
        try {
            m_io.run();
        } catch (const std::exception& e) {
            util::log::error(std::string("http: the endpoint stopped: ") + e.what());
        }
    }

    // Declared before m_io: sessions that io_context's destructor frees
    // still use the handler and unregister themselves.
    HttpHandler m_handler;
    Sessions m_sessions;
    net::io_context m_io;
    tcp::acceptor m_acceptor{m_io};
    net::steady_timer m_retry{m_io};
    std::uint16_t m_port = 0;
    bool m_stopping = false; // endpoint thread only
    std::once_flag m_stop_once;
    std::thread m_thread;
};

HttpEndpoint::HttpEndpoint(const std::string& address, std::uint16_t port, HttpHandler handler)
    : m_impl(std::make_unique<Impl>(address, port, std::move(handler))) {}

HttpEndpoint::~HttpEndpoint() = default;

std::uint16_t HttpEndpoint::port() const {
    return m_impl->port();
}

void HttpEndpoint::stop() {
    m_impl->stop();
}

} // namespace ewsd::daemon
