#include "server/admin_client.h"

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>

#include "core/cat.h"
#include "server/config.h"

namespace sluice::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

template <class Stream>
StatusOr<AdminResponse> Exchange(Stream& stream, const AdminTarget& t, const std::string& method,
                                 const std::string& path, const std::string& body) {
  http::request<http::string_body> req{http::string_to_verb(method), path, 11};
  req.set(http::field::host, t.host);
  req.set(http::field::user_agent, "sluice-cli");
  if (!t.token.empty()) req.set(http::field::authorization, "Bearer " + t.token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec)
    return absl::UnavailableError(Cat("admin listener ", t.host, ":", t.port, ": ", ec.message()));
  return AdminResponse{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace

StatusOr<AdminTarget> ResolveAdminTarget(const std::string& config_path, const std::string& admin) {
  AdminTarget target;
  auto cfg = LoadConfig(config_path);
  if (cfg.ok()) {
    const std::string& a = cfg->admin.address;
    target.host = a == "0.0.0.0" || a == "::" ? "127.0.0.1" : a;
    target.port = cfg->admin.port;
    target.token = cfg->admin_token;
    target.tls_cert_file = cfg->admin.tls.cert_file;
  } else if (admin.empty()) {
    return cfg.status();
  }
  if (!admin.empty()) {
    const size_t colon = admin.rfind(':');
    if (colon == std::string::npos) return absl::InvalidArgumentError("--admin takes host:port");
    target.host = admin.substr(0, colon);
    target.port = std::atoi(admin.c_str() + colon + 1);
  }
  if (const char* token = std::getenv("SLUICE_ADMIN_TOKEN"); token && *token) target.token = token;
  return target;
}

StatusOr<AdminResponse> AdminCall(const AdminTarget& t, const std::string& method,
                                  const std::string& path, const std::string& body, int timeout_s) {
  net::io_context ioc;
  net::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream tcp(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(t.host, std::to_string(t.port), ec);
  if (ec) return absl::UnavailableError(Cat("cannot resolve ", t.host, ": ", ec.message()));
  tcp.expires_after(std::chrono::seconds(timeout_s));
  tcp.connect(results, ec);
  if (ec)
    return absl::UnavailableError(Cat("cannot reach the admin listener at ", t.host, ":", t.port,
                                      " (", ec.message(), "); is `sluice serve` running?"));
  if (t.tls_cert_file.empty()) {
    auto r = Exchange(tcp, t, method, path, body);
    tcp.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    return r;
  }
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.load_verify_file(t.tls_cert_file, ec);
  if (ec)
    return absl::InvalidArgumentError(
        Cat("cannot read the admin certificate ", t.tls_cert_file, ": ", ec.message()));
  // The server's own certificate is the trust anchor, wherever it sits in a chain.
  X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx.native_handle()), X509_V_FLAG_PARTIAL_CHAIN);
  ctx.set_verify_mode(net::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), ctx);
  tls.handshake(net::ssl::stream_base::client, ec);
  if (ec)
    return absl::UnavailableError(
        Cat("TLS with the admin listener at ", t.host, ":", t.port, ": ", ec.message()));
  // Pinned: the certificate served must be the file's first (its leaf), not merely one
  // the file's chain vouches for; checked before the token is sent.
  bool same = false;
  if (X509* served = SSL_get1_peer_certificate(tls.native_handle())) {
    if (FILE* f = std::fopen(t.tls_cert_file.c_str(), "r")) {
      if (X509* leaf = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
        same = X509_cmp(served, leaf) == 0;
        X509_free(leaf);
      }
      std::fclose(f);
    }
    X509_free(served);
  }
  if (!same)
    return absl::UnavailableError(Cat("the admin listener at ", t.host, ":", t.port,
                                      " does not serve the certificate in ", t.tls_cert_file));
  auto r = Exchange(tls, t, method, path, body);
  tls.shutdown(ec);
  return r;
}

}  // namespace sluice::server
