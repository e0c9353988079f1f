#include "server/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace sluice::server {
namespace {

TEST(ServerConfig, FileThenEnvironment) {
  const std::string path = ::testing::TempDir() + "/sluice-config.yaml";
  std::ofstream(path)
      << "http: {port: 5000, io_threads: 3}\n"
         "grpc: {address: 127.0.0.1, port: 5001}\n"
         "limits: {max_request_bytes: 1000, queue_bytes: 2000, shutdown_timeout: 3s}\n"
         "pipelines_dir: /etc/sluice/pipelines\n";
  setenv("SLUICE_GRPC_PORT", "6001", 1);
  auto c = LoadConfig(path);
  unsetenv("SLUICE_GRPC_PORT");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->http.port, 5000);
  EXPECT_EQ(c->http.io_threads, 3);
  EXPECT_EQ(c->grpc.address, "127.0.0.1");
  EXPECT_EQ(c->grpc.port, 6001);  // the environment wins
  EXPECT_EQ(c->http.max_body_bytes, 1000u);
  EXPECT_EQ(c->grpc.max_message_bytes, 1000u);
  EXPECT_EQ(c->limits.queue_bytes, 2000u);
  EXPECT_EQ(c->limits.shutdown_timeout.count(), 3000);
  EXPECT_EQ(c->pipelines_dir, "/etc/sluice/pipelines");
}

TEST(ServerConfig, UnknownKeysAndLevelsAreErrors) {
  const std::string path = ::testing::TempDir() + "/sluice-config-typo.yaml";
  std::ofstream(path) << "htpp: {port: 1}\nlimits: {queue_byte: 5}\nadmin: {port: 9}\n";
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "config " + path +
                ": unknown key 'htpp' at the top level; did you mean 'http'?; unknown key "
                "'queue_byte' in limits; did you mean 'queue_bytes'?");
  std::ofstream(path) << "log_level: verbose\n";
  EXPECT_EQ(LoadConfig(path).status().message(),
            "log_level must be debug, info, warn or error, not 'verbose'");
}

TEST(ServerConfig, JsonAndErrors) {
  const std::string path = ::testing::TempDir() + "/sluice-config.json";
  std::ofstream(path) << R"({"http": {"port": 7000}, "log_level": "debug"})";
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->http.port, 7000);
  EXPECT_EQ(c->grpc.port, 4317);
  EXPECT_EQ(c->log_level, "debug");
  std::ofstream(path) << R"({"limits": {"shutdown_timeout": "soon"}})";
  EXPECT_FALSE(LoadConfig(path).ok());
  EXPECT_FALSE(LoadConfig("/nonexistent/sluice.yaml").ok());
  setenv("SLUICE_FSYNC", "sometimes", 1);
  EXPECT_FALSE(LoadConfig("").ok());
  setenv("SLUICE_FSYNC", "interval", 1);
  auto i = LoadConfig("");
  unsetenv("SLUICE_FSYNC");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->limits.fsync, buffer::FsyncPolicy::kInterval);
  setenv("SLUICE_HTTP_PORT", "not-a-port", 1);
  EXPECT_FALSE(LoadConfig("").ok());
  unsetenv("SLUICE_HTTP_PORT");
}

}  // namespace
}  // namespace sluice::server

namespace sluice::server {
namespace {

TEST(ServerConfig, ListenersTlsAuthAndTheAdminRule) {
  const std::string path = ::testing::TempDir() + "/sluice-config-sec.yaml";
  std::ofstream(path) << R"(
http:
  max_header_bytes: 8192
  request_timeout: 5s
  tls: {cert_file: /c.pem, key_file: /k.pem, client_ca_file: /ca.pem, min_version: "1.3",
        cipher_suites: [TLS_AES_128_GCM_SHA256], reload_interval: 0s}
grpc: {max_connections: 10, max_concurrent_streams: 7, idle_timeout: 2m, handshake_timeout: 3s}
admin: {address: 0.0.0.0, token: s3cret-admin, tls: {cert_file: /c.pem, key_file: /k.pem}}
auth:
  bearer_tokens: [{token: t0ken, pipelines: [a]}]
)";
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->http.max_header_bytes, 8192u);
  EXPECT_EQ(c->http.request_timeout.count(), 5000);
  EXPECT_EQ(c->http.tls.client_ca_file, "/ca.pem");
  EXPECT_EQ(c->http.tls.min_version, "1.3");
  EXPECT_EQ(c->http.tls.cipher_suites, std::vector<std::string>{"TLS_AES_128_GCM_SHA256"});
  EXPECT_EQ(c->http.tls.reload_interval.count(), 0);
  EXPECT_FALSE(c->grpc.tls.enabled());
  EXPECT_EQ(c->grpc.max_connections, 10);
  EXPECT_EQ(c->grpc.max_concurrent_streams, 7);
  EXPECT_EQ(c->grpc.idle_timeout.count(), 120000);
  EXPECT_EQ(c->grpc.handshake_timeout.count(), 3000);
  EXPECT_EQ(c->admin_token, "s3cret-admin");
  EXPECT_TRUE(c->auth->Check("Bearer t0ken", "a").ok());
  EXPECT_FALSE(c->auth->Check("Bearer t0ken", "b").ok());

  // Off loopback, the admin listener needs both a token and TLS.
  std::ofstream(path) << "admin: {address: 0.0.0.0, token: s3cret-admin}\n";
  c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("admin.address 0.0.0.0 is not a loopback"), 0u);
  EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos);
  std::ofstream(path) << "admin: {address: '::1'}\n";
  EXPECT_TRUE(LoadConfig(path).ok());
  std::ofstream(path) << "admin: {enabled: false, address: 10.0.0.1}\n";
  EXPECT_TRUE(LoadConfig(path).ok());

  std::ofstream(path) << "grpc: {tls: {cert_file: /c.pem}}\n";
  EXPECT_EQ(LoadConfig(path).status().message(),
            "config grpc.tls: cert_file and key_file are required");
  std::ofstream(path) << "http: {tls: {cert_file: /c.pem, key_file: /k.pem, min_verison: '1.3'}}\n";
  EXPECT_EQ(
      LoadConfig(path).status().message(),
      "config " + path + ": unknown key 'min_verison' in http.tls; did you mean 'min_version'?");
  std::ofstream(path) << "auth: {bearer_tokens: [{tokne: x}]}\n";
  EXPECT_EQ(
      LoadConfig(path).status().message(),
      "config " + path + ": unknown key 'tokne' in auth.bearer_tokens[0]; did you mean 'token'?");
  // With no auth section, every request is let through.
  std::ofstream(path) << "{}\n";
  c = LoadConfig(path);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->auth->enabled());
}

}  // namespace
}  // namespace sluice::server
