#include "core/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

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

namespace {

// Chooses the first protocol of ours (`arg`: the wire-format list, in a std::string that
// lives as long as the context) that the client offers; a client offering only others is
// refused with no_application_protocol (talking HTTP/1.1 to the gRPC port would fail later,
// less clearly). A client offering none does not call this.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned>(ours->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int AlpnIndex() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(ptr);
      });
  return index;
}

// The cipher suites by IANA name, split into OpenSSL's TLS 1.2 cipher string and TLS 1.3
// suite list.
Status CipherLists(SSL_CTX* ctx, const std::vector<std::string>& names, std::string* tls12,
                   std::string* tls13) {
  STACK_OF(SSL_CIPHER)* all = SSL_CTX_get_ciphers(ctx);
  for (const std::string& name : names) {
    const SSL_CIPHER* found = nullptr;
    for (int i = 0; all != nullptr && i < sk_SSL_CIPHER_num(all); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(all, i);
      if (const char* std_name = SSL_CIPHER_standard_name(c); std_name && name == std_name) {
        found = c;
        break;
      }
    }
    if (found == nullptr)
      return absl::InvalidArgumentError(Cat("TLS: unknown or disabled cipher suite '", name,
                                            "' (give IANA names, e.g. "
                                            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"));
    std::string& list =
        std::string_view(SSL_CIPHER_get_version(found)) == "TLSv1.3" ? *tls13 : *tls12;
    list += Cat(list.empty() ? "" : ":", SSL_CIPHER_get_name(found));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<SSL_CTX*> BuildServerContext(const TlsServerOptions& options, std::string_view alpn,
                                      int64_t* not_after) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(Cat("TLS: ", TakeOpenSslErrors()));
  auto fail = [&](const std::string& what) {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(Cat("TLS: ", what, ": ", TakeOpenSslErrors()));
  };
  if (options.min_version != "1.2" && options.min_version != "1.3") {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(
        Cat("TLS: min_version must be \"1.2\" or \"1.3\", not '", options.min_version, "'"));
  }
  SSL_CTX_set_min_proto_version(ctx,
                                options.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // No renegotiation (a client could make the server redo handshakes), no compression.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle connections give their record buffers back (about 34 KiB each).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!options.cipher_suites.empty()) {
    std::string tls12, tls13;
    if (Status s = CipherLists(ctx, options.cipher_suites, &tls12, &tls13); !s.ok()) {
      SSL_CTX_free(ctx);
      return s;
    }
    if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1)
      return fail("cannot use cipher_suites");
    if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1)
      return fail("cannot use cipher_suites");
  }
  if (options.key_file.empty()) {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError("TLS: key_file is required with cert_file");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1)
    return fail(Cat("cannot read certificate ", options.cert_file));
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return fail(
        mismatch ? Cat("key ", options.key_file, " does not match certificate ", options.cert_file)
                 : Cat("cannot read key ", options.key_file));
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail(Cat("key ", options.key_file, " does not match certificate ", options.cert_file));
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1)
      return fail(Cat("cannot read client CA file ", options.client_ca_file));
    // The CA names go in the CertificateRequest, so clients pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names == nullptr)
      return fail(Cat("no certificate in client CA file ", options.client_ca_file));
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // Without a session id context OpenSSL fails every resumed handshake of a verifying
    // server (clients that cache sessions: curl, Java, OpenSSL).
    static constexpr unsigned char kSessionContext[] = "sluice";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  }
  if (!alpn.empty()) {
    auto* ours = new std::string(alpn);
    SSL_CTX_set_ex_data(ctx, AlpnIndex(), ours);
    SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, ours);
  }
  if (not_after != nullptr) {
    *not_after = 0;
    if (X509* cert = SSL_CTX_get0_certificate(ctx)) {
      tm t{};
      if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t) == 1) *not_after = timegm(&t);
    }
  }
  return ctx;
}

}  // namespace sluice
