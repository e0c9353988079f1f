#include "server/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/cat.h"

namespace sluice::server {

StatusOr<AdminResponse> AdminGet(const std::string& host, int port, const std::string& path) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return absl::UnavailableError(Cat("cannot resolve ", host, ": ", ec.message()));
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(results, ec);
  if (ec)
    return absl::UnavailableError(Cat("cannot reach the admin listener at ", host, ":", port, " (",
                                      ec.message(), "); is `sluice serve` running?"));
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "sluice-cli");
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec)
    return absl::UnavailableError(Cat("admin listener ", host, ":", port, ": ", ec.message()));
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  return AdminResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace sluice::server
