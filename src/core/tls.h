// Client-side TLS settings and the OpenSSL context built from them, once per endpoint (loading
// the CA store costs milliseconds; a handshake then only references the context). A TcpStream
// runs the handshake and the encrypted transfers over its own non-blocking socket.
// TlsContext is immutable after Create and thread-safe (OpenSSL contexts are reference-counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace sluice {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;      // PEM bundle; empty: the system's store
  bool verify = true;       // false: skip_certificate_verification
  std::string cert_file;    // client certificate chain (PEM), optional
  std::string key_file;     // its private key (PEM); defaults to cert_file
  std::string server_name;  // SNI and the name checked; empty: the host connected to
  bool operator==(const TlsOptions&) const = default;
};

class TlsContext {
 public:
  // InvalidArgument names the file that cannot be used and why (OpenSSL's reason).
  static StatusOr<std::shared_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  const TlsOptions& options() const { return options_; }

 private:
  TlsContext(SSL_CTX* ctx, TlsOptions options) : ctx_(ctx), options_(std::move(options)) {}
  SSL_CTX* ctx_;
  TlsOptions options_;
};

// A listener's TLS settings (the OpenTelemetry Collector's names): its certificate chain
// and key, the CA that client certificates must chain to (set: mutual TLS, a certificate
// is required), the lowest protocol version, and the cipher suites (IANA names; TLS 1.2
// names restrict the TLS 1.2 list, TLS 1.3 names the TLS 1.3 list; none: OpenSSL's defaults).
struct TlsServerOptions {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::vector<std::string> cipher_suites;
  // How often the files are checked for changes (0: only on `sluice reload`).
  std::chrono::milliseconds reload_interval{10000};
  bool enabled() const { return !cert_file.empty(); }
  bool operator==(const TlsServerOptions&) const = default;
};

// A server context built from the files, offering `alpn` (ALPN protocol names in wire
// format, e.g. "\x02h2"; empty: no ALPN) and refusing clients that offer only others. The
// caller owns the result (SSL_CTX_free). `not_after` gets the certificate's expiry (Unix
// seconds). InvalidArgument names the file or setting that cannot be used, and why.
StatusOr<SSL_CTX*> BuildServerContext(const TlsServerOptions& options, std::string_view alpn,
                                      int64_t* not_after);

// The reasons OpenSSL queued on this thread, joined, and the queue cleared.
std::string TakeOpenSslErrors();

}  // namespace sluice
