// Client-side TLS settings and the OpenSSL context built from them, once per endpoint (loading
// the CA store costs milliseconds; a handshake then only references the context). A TcpStream
// runs the handshake and the encrypted transfers over its own non-blocking socket.
// TlsContext is immutable after Create and thread-safe (OpenSSL contexts are reference-counted).
#pragma once

#include <memory>
#include <string>

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

// The reasons OpenSSL queued on this thread, joined, and the queue cleared.
std::string TakeOpenSslErrors();

}  // namespace sluice
