#include "core/tls_testing.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "core/tls.h"

namespace sluice::testing {
namespace {

EVP_PKEY* ReadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return k;
}

X509* ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return c;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, e, -1);
  X509_EXTENSION_free(e);
}

}  // namespace

CertFiles MakeCert(const std::string& dir, const std::string& name, const CertFiles* issuer,
                   int from_days, int days) {
  static long serial = 1000;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(from_days) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(from_days + days) * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? ReadCert(issuer->cert) : cert;
  EVP_PKEY* issuer_key = issuer ? ReadKey(issuer->key) : key;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  if (issuer == nullptr) {
    AddExt(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    AddExt(cert, issuer_cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  }
  X509_sign(cert, issuer_key, EVP_sha256());
  CertFiles out{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  FILE* f = std::fopen(out.cert.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(out.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  if (issuer) {
    X509_free(issuer_cert);
    EVP_PKEY_free(issuer_key);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

std::string Handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx, const std::string& alpn,
                      std::string* selected) {
  ERR_clear_error();
  SSL* client = SSL_new(client_ctx);
  SSL* server = SSL_new(server_ctx);
  BIO *cb, *sb;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL_set_bio(client, cb, cb);
  SSL_set_bio(server, sb, sb);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  if (!alpn.empty())
    SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
  std::string failure;
  bool client_done = false, server_done = false;
  for (int round = 0; round < 20 && (!client_done || !server_done) && failure.empty(); ++round) {
    if (!client_done) {
      const int r = SSL_do_handshake(client);
      if (r == 1)
        client_done = true;
      else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
        failure = "client: " + TakeOpenSslErrors();
    }
    if (!server_done && failure.empty()) {
      const int r = SSL_do_handshake(server);
      if (r == 1)
        server_done = true;
      else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ)
        failure = "server: " + TakeOpenSslErrors() + " (" +
                  X509_verify_cert_error_string(SSL_get_verify_result(server)) + ")";
    }
  }
  // TLS 1.3: the server checks a client certificate after the client thinks it is done;
  // a read makes the client see the server's alert.
  if (failure.empty()) {
    char c;
    SSL_write(server, "x", 1);
    if (SSL_read(client, &c, 1) != 1) failure = "client: " + TakeOpenSslErrors();
  }
  if (selected != nullptr) {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(server, &p, &n);
    selected->assign(reinterpret_cast<const char*>(p), n);
  }
  SSL_free(client);
  SSL_free(server);
  return failure;
}

}  // namespace sluice::testing
