#include "pipeline/connection_params.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace sluice::pipeline {
namespace {

using clickhouse::Codec;
using clickhouse::Endpoint;
using clickhouse::HostPort;
using clickhouse::Protocol;

StatusOr<Endpoint> Parse(const std::string& yaml) {
  Endpoint ep;
  Status s = ParseConnectionParams(YAML::Load(yaml), &ep);
  if (!s.ok()) return s;
  return ep;
}

TEST(ConnectionParams, ProtocolAndPortFollowGlassFlowKeys) {
  struct Case {
    const char* yaml;
    Protocol protocol;
    int port;
  } cases[] = {
      {"{host: h}", Protocol::kNative, 9000},
      {"{host: h, port: 9000}", Protocol::kNative, 9000},
      {"{host: h, port: '9440', secure: true}", Protocol::kNative, 9440},
      {"{host: h, secure: 'true'}", Protocol::kNative, 9440},
      {"{host: h, port: 9000, http_port: 8123}", Protocol::kHttp, 8123},
      {"{host: h, port: 19000, http_port: 18123}", Protocol::kHttp, 18123},
      {"{host: h, port: 8123}", Protocol::kHttp, 8123},
      {"{host: h, port: 8443, secure: true}", Protocol::kHttp, 8443},
      {"{host: h, port: 9000, protocol: http}", Protocol::kHttp, 8123},
      {"{host: h, port: 9440, protocol: http, secure: true}", Protocol::kHttp, 8443},
      {"{host: h, port: 18123, protocol: http}", Protocol::kHttp, 18123},
      {"{host: h, port: 19000, protocol: native}", Protocol::kNative, 19000},
      {"{host: h, port: 12345}", Protocol::kNative, 12345},
  };
  for (const Case& c : cases) {
    auto ep = Parse(c.yaml);
    ASSERT_TRUE(ep.ok()) << c.yaml << ": " << ep.status();
    EXPECT_EQ(ep->protocol, c.protocol) << c.yaml;
    EXPECT_EQ(ep->port, c.port) << c.yaml;
  }
}

TEST(ConnectionParams, CompressionDefaultsToLz4OnNativeOnly) {
  EXPECT_EQ(Parse("{host: h}")->compression, Codec::kLz4);
  EXPECT_EQ(Parse("{host: h, http_port: 8123}")->compression, Codec::kNone);
  EXPECT_EQ(Parse("{host: h, compression: none}")->compression, Codec::kNone);
  EXPECT_EQ(Parse("{host: h, compression: zstd, http_port: 1}")->compression, Codec::kZstd);
}

TEST(ConnectionParams, Hosts) {
  auto ep = Parse("{host: a, hosts: ['b:19001', 'c', '[::1]:9', 'a'], port: 19000}");
  ASSERT_TRUE(ep.ok()) << ep.status();
  std::vector<HostPort> want = {{"a", 19000}, {"b", 19001}, {"c", 19000}, {"::1", 9}};
  EXPECT_EQ(ep->Hosts(), want);
  ep = Parse("{hosts: 'x:1, y:2'}");
  ASSERT_TRUE(ep.ok()) << ep.status();
  want = {{"x", 1}, {"y", 2}};
  EXPECT_EQ(ep->Hosts(), want);
  EXPECT_EQ(ep->Describe(), "native x:1 (+1 host)");
  for (const char* bad : {"{}", "{hosts: ['a:0']}", "{hosts: ['a:x']}", "{hosts: ['[::1']}",
                          "{host: ':9000'}", "{host: h, port: 70000}", "{host: h, http_port: x}"})
    EXPECT_FALSE(Parse(bad).ok()) << bad;
}

TEST(ConnectionParams, PasswordFromEnvOrFileNeverInErrors) {
  setenv("SLUICE_TEST_CH_PASSWORD", "s3cret-env", 1);
  auto ep = Parse("{host: h, password_env: SLUICE_TEST_CH_PASSWORD}");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->password, "s3cret-env");
  const std::string file = ::testing::TempDir() + "/ch_password";
  std::ofstream(file) << "s3cret-file\n";
  ep = Parse("{host: h, password_file: " + file + "}");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->password, "s3cret-file");
  EXPECT_EQ(ep->Describe().find("s3cret"), std::string::npos);

  auto bad = Parse("{host: h, password_env: SLUICE_TEST_NOT_SET_ANYWHERE}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SLUICE_TEST_NOT_SET_ANYWHERE"), std::string::npos);
  bad = Parse("{host: h, password_file: /nonexistent/pw}");
  EXPECT_FALSE(bad.ok());
  bad = Parse("{host: h, password: s3cret-inline, password_env: SLUICE_TEST_CH_PASSWORD}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()).find("s3cret"), std::string::npos);
}

TEST(ConnectionParams, Tls) {
  auto ep = Parse("{host: h, secure: true, skip_certificate_verification: true}");
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_TRUE(ep->tls.enabled);
  EXPECT_FALSE(ep->tls.verify);
  EXPECT_NE(ep->tls_context, nullptr);
  EXPECT_EQ(ep->Describe(), "native h:9440, TLS");
  auto bad = Parse("{host: h, secure: true, tls_ca_file: /nonexistent/ca.pem}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  EXPECT_FALSE(Parse("{host: h, tls_ca_file: /x}").ok());  // TLS settings without TLS
  EXPECT_FALSE(Parse("{host: h, secure: maybe}").ok());
  EXPECT_FALSE(Parse("{host: h, protocol: grpc}").ok());
}

}  // namespace
}  // namespace sluice::pipeline
