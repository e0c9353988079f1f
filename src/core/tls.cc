#include "core/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/cat.h"

namespace sluice {

std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown TLS error") : out;
}

StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return absl::InternalError(Cat("TLS: ", TakeOpenSslErrors()));
  auto fail = [&](const std::string& what) {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(Cat("TLS: ", what, ": ", TakeOpenSslErrors()));
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A server that closes without close_notify ends the stream (ClickHouse does, on idle
  // connections): an end of file, not a protocol error.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!options.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
        return fail(Cat("cannot read CA file ", options.ca_file));
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail("cannot load the system's CA store");
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1)
      return fail(Cat("cannot read client certificate ", options.cert_file));
    const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail(Cat("cannot read client key ", key));
    if (SSL_CTX_check_private_key(ctx) != 1)
      return fail(Cat("client key ", key, " does not match certificate ", options.cert_file));
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, options));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace sluice
