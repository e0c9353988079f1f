// Test helpers: certificates made in memory (EC P-256) and written as PEM files, and a TLS
// handshake between two SSL objects over a memory BIO pair. For unit tests only.
#pragma once

#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace sluice::testing {

struct CertFiles {
  std::string cert, key;
};

// A certificate for CN=`name` (SAN IP:127.0.0.1), valid from now + `from_days` for `days`,
// signed by `issuer` (null: self-signed, and then a CA). Written under `dir` as
// <name>.crt / <name>.key.
CertFiles MakeCert(const std::string& dir, const std::string& name, const CertFiles* issuer,
                   int from_days = -1, int days = 30);

// Runs a handshake between a client made from `client` and a server from `server`; returns
// "" on success, else the side that failed and OpenSSL's reason. `alpn` (wire format) is
// what the client offers; `*selected` gets the protocol the server chose.
std::string Handshake(SSL_CTX* client, SSL_CTX* server, const std::string& alpn = "",
                      std::string* selected = nullptr);

}  // namespace sluice::testing
