#include "receivers/server_tls.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/tls_testing.h"

namespace sluice::receivers {
namespace {

using testing::CertFiles;
using testing::Handshake;
using testing::MakeCert;

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/sluice-tls-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    ca_ = MakeCert(dir_, "ca", nullptr);
    other_ca_ = MakeCert(dir_, "other-ca", nullptr);
    server_ = MakeCert(dir_, "server", &ca_);
    client_ = MakeCert(dir_, "client", &ca_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A client context trusting `ca`, presenting `cert` if given, TLS 1.2 at most if `tls12`.
  SSL_CTX* Client(const CertFiles& ca, const CertFiles* cert = nullptr, bool tls12 = false) {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c, ca.cert.c_str(), nullptr);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    if (cert) {
      SSL_CTX_use_certificate_file(c, cert->cert.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(c, cert->key.c_str(), SSL_FILETYPE_PEM);
    }
    if (tls12) SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    clients_.emplace_back(c, &SSL_CTX_free);
    return c;
  }
  TlsServerOptions Options() const {
    TlsServerOptions o;
    o.cert_file = server_.cert;
    o.key_file = server_.key;
    return o;
  }

  std::string dir_;
  CertFiles ca_, other_ca_, server_, client_;
  std::vector<std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)>> clients_;
};

TEST_F(ServerTlsTest, BuildsAndServes) {
  int64_t not_after = 0;
  auto ctx = BuildServerContext(Options(), kAlpnH2, &not_after);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  // MakeCert: valid from a day ago for 30 days.
  EXPECT_NEAR(static_cast<double>(not_after), static_cast<double>(std::time(nullptr) + 29 * 86400),
              120.0);
  std::string selected;
  EXPECT_EQ(Handshake(Client(ca_), *ctx, std::string(kAlpnH2), &selected), "");
  EXPECT_EQ(selected, "h2");
  // A client offering no ALPN is served; one offering only HTTP/1.1 to the gRPC port is not.
  EXPECT_EQ(Handshake(Client(ca_), *ctx), "");
  EXPECT_NE(Handshake(Client(ca_), *ctx, std::string(kAlpnHttp11)), "");
  SSL_CTX_free(*ctx);
}

TEST_F(ServerTlsTest, MutualTls) {
  TlsServerOptions o = Options();
  o.client_ca_file = ca_.cert;
  auto ctx = BuildServerContext(o, "", nullptr);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(Handshake(Client(ca_, &client_), *ctx), "");
  EXPECT_NE(Handshake(Client(ca_), *ctx), "");  // no certificate
  const CertFiles stranger = MakeCert(dir_, "stranger", &other_ca_);
  EXPECT_NE(Handshake(Client(ca_, &stranger), *ctx), "");  // another CA's
  const CertFiles expired = MakeCert(dir_, "expired", &ca_, -10, 5);
  const std::string why = Handshake(Client(ca_, &expired), *ctx);
  EXPECT_NE(why.find("(certificate has expired)"), std::string::npos) << why;
  const CertFiles early = MakeCert(dir_, "early", &ca_, 5, 5);
  EXPECT_NE(Handshake(Client(ca_, &early), *ctx), "");  // not yet valid
  SSL_CTX_free(*ctx);
}

TEST_F(ServerTlsTest, MinimumVersionAndCipherSuites) {
  TlsServerOptions o = Options();
  o.min_version = "1.3";
  auto ctx = BuildServerContext(o, "", nullptr);
  ASSERT_TRUE(ctx.ok());
  EXPECT_NE(Handshake(Client(ca_, nullptr, /*tls12=*/true), *ctx), "");
  EXPECT_EQ(Handshake(Client(ca_), *ctx), "");
  SSL_CTX_free(*ctx);

  o.min_version = "1.2";
  o.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"};
  ctx = BuildServerContext(o, "", nullptr);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  SSL* ssl = SSL_new(*ctx);
  STACK_OF(SSL_CIPHER)* list = SSL_get_ciphers(ssl);
  std::vector<std::string> names;
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i)
    names.push_back(SSL_CIPHER_standard_name(sk_SSL_CIPHER_value(list, i)));
  EXPECT_EQ(names, (std::vector<std::string>{"TLS_AES_128_GCM_SHA256",
                                             "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}));
  SSL_free(ssl);
  EXPECT_EQ(Handshake(Client(ca_, nullptr, true), *ctx), "");
  SSL_CTX_free(*ctx);

  o.cipher_suites = {"TLS_RSA_WITH_RC4_128_MD5"};
  auto bad = BuildServerContext(o, "", nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(
      bad.status().message().find("unknown or disabled cipher suite 'TLS_RSA_WITH_RC4_128_MD5'"),
      std::string::npos);
  o.cipher_suites.clear();
  o.min_version = "1.1";
  EXPECT_EQ(BuildServerContext(o, "", nullptr).status().message(),
            "TLS: min_version must be \"1.2\" or \"1.3\", not '1.1'");
}

TEST_F(ServerTlsTest, FileErrorsNameTheFile) {
  TlsServerOptions o = Options();
  o.key_file = client_.key;
  auto s = BuildServerContext(o, "", nullptr).status();
  EXPECT_NE(s.message().find("key " + client_.key + " does not match certificate " + server_.cert),
            std::string::npos)
      << s.message();
  o = Options();
  o.cert_file = dir_ + "/missing.crt";
  s = BuildServerContext(o, "", nullptr).status();
  EXPECT_NE(s.message().find("cannot read certificate " + dir_ + "/missing.crt"), std::string::npos)
      << s;
  o = Options();
  o.client_ca_file = server_.key;  // no certificate in it
  EXPECT_FALSE(BuildServerContext(o, "", nullptr).ok());
}

TEST_F(ServerTlsTest, ReloadsChangedFilesKeepsOldOnBadPair) {
  auto stats = std::make_shared<ListenerStats>("test");
  auto tls = ServerTls::Create(Options(), kAlpnHttp11, stats);
  ASSERT_TRUE(tls.ok()) << tls.status();
  auto first = (*tls)->Current();
  EXPECT_FALSE((*tls)->Refresh(false));  // nothing changed
  EXPECT_EQ((*tls)->Current(), first);

  // A new certificate, written aside and renamed over the old (as Kubernetes does).
  const CertFiles next = MakeCert(dir_, "server-next", &ca_, -1, 60);
  std::rename(next.key.c_str(), server_.key.c_str());
  std::rename(next.cert.c_str(), server_.cert.c_str());
  EXPECT_TRUE((*tls)->Refresh(false));
  auto second = (*tls)->Current();
  EXPECT_NE(second, first);
  EXPECT_EQ(stats->tls_reloads_ok.load(), 1u);
  EXPECT_NEAR(static_cast<double>(stats->tls_not_after.load()),
              static_cast<double>(std::time(nullptr) + 59 * 86400), 120.0);
  EXPECT_EQ(Handshake(Client(ca_), second->native_handle()), "");

  // Half a rotation: the key does not match. The previous context stays, counted once.
  const CertFiles other = MakeCert(dir_, "other", &ca_);
  std::rename(other.key.c_str(), server_.key.c_str());
  EXPECT_FALSE((*tls)->Refresh(false));
  EXPECT_FALSE((*tls)->Refresh(false));  // same broken files: not retried
  EXPECT_EQ((*tls)->Current(), second);
  EXPECT_EQ(stats->tls_reloads_failed.load(), 1u);
  // The matching certificate arrives: taken.
  std::rename(other.cert.c_str(), server_.cert.c_str());
  EXPECT_TRUE((*tls)->Refresh(false));
  EXPECT_NE((*tls)->Current(), second);
  // Forced (sluice reload): rebuilt even unchanged.
  EXPECT_TRUE((*tls)->Refresh(true));
  EXPECT_EQ(stats->tls_reloads_ok.load(), 3u);
}

}  // namespace
}  // namespace sluice::receivers
