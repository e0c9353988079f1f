#include "receivers/auth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace sluice::receivers {
namespace {

std::shared_ptr<const Authenticator> Load(const std::string& yaml) {
  auto a = Authenticator::FromConfig(YAML::Load(yaml));
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : nullptr;
}

TEST(Auth, NoCredentialsLetsEverythingThrough) {
  auto a = Load("~");
  EXPECT_FALSE(a->enabled());
  EXPECT_TRUE(a->Check("", "any").ok());
  EXPECT_TRUE(a->Check("Bearer whatever", "any").ok());
}

TEST(Auth, BearerTokensBoundToPipelines) {
  auto a = Load(R"(
bearer_tokens:
  - {token: tenant-a-secret, pipelines: [a-logs, a-traces]}
  - {token: ops-secret}
basic:
  - {username: alloy, password: pw-b, pipelines: [b-logs]}
)");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->size(), 3u);
  EXPECT_EQ(a->challenge(), "Bearer realm=\"sluice\", Basic realm=\"sluice\"");
  EXPECT_TRUE(a->Check("Bearer tenant-a-secret", "a-logs").ok());
  EXPECT_TRUE(a->Check("bearer tenant-a-secret  ", "a-traces").ok());  // scheme: any case
  Status s = a->Check("Bearer tenant-a-secret", "b-logs");
  EXPECT_TRUE(absl::IsPermissionDenied(s));
  EXPECT_EQ(s.message(), "these credentials may not write to pipeline 'b-logs'");
  // An id that does not exist is refused exactly as one that does (nothing is told).
  EXPECT_EQ(a->Check("Bearer tenant-a-secret", "nope").message(),
            "these credentials may not write to pipeline 'nope'");
  EXPECT_TRUE(a->Check("Bearer ops-secret", "b-logs").ok());
  EXPECT_TRUE(a->Check("Basic YWxsb3k6cHctYg==", "b-logs").ok());  // alloy:pw-b
  EXPECT_TRUE(absl::IsPermissionDenied(a->Check("Basic YWxsb3k6cHctYg==", "a-logs")));
  for (const char* bad :
       {"", "Bearer", "Bearer ", "Bearer wrong", "tenant-a-secret", "Token tenant-a-secret",
        "Basic YWxsb3k6d3Jvbmc=", "Basic !!!", "Bearer tenant-a-secretX", "Bearer tenant-a-secre",
        "Basic dGVuYW50LWEtc2VjcmV0"}) {  // the token sent as basic
    Status u = a->Check(bad, "a-logs");
    EXPECT_TRUE(absl::IsUnauthenticated(u)) << bad;
    EXPECT_EQ(std::string(u.message()), kBadCredentials) << bad;
  }
}

TEST(Auth, SecretsFromEnvironmentAndFiles) {
  setenv("SLUICE_TEST_TOKEN", "from-env", 1);
  const std::string file = ::testing::TempDir() + "/sluice-token";
  std::ofstream(file) << "from-file\n";
  auto a = Load("bearer_tokens: [{token_env: SLUICE_TEST_TOKEN}, {token_file: " + file + "}]");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->Check("Bearer from-env", "x").ok());
  EXPECT_TRUE(a->Check("Bearer from-file", "x").ok());  // the newline is not part of it
  EXPECT_EQ(a->challenge(), "Bearer realm=\"sluice\"");
  unsetenv("SLUICE_TEST_TOKEN");
}

TEST(Auth, BadConfigsNameTheFieldNotTheSecret) {
  auto bad = [](const std::string& yaml) {
    auto a = Authenticator::FromConfig(YAML::Load(yaml));
    EXPECT_FALSE(a.ok()) << yaml;
    return a.ok() ? std::string() : std::string(a.status().message());
  };
  EXPECT_EQ(bad("bearer_tokens: [{pipelines: [a]}]"),
            "config auth.bearer_tokens[0]: give token, token_env or token_file");
  EXPECT_EQ(bad("bearer_tokens: [{token: a-secret-1, token_env: X}]"),
            "config auth.bearer_tokens[0]: give one of token, token_env and token_file");
  EXPECT_EQ(bad("bearer_tokens: [{token_env: SLUICE_TEST_UNSET_VAR}]"),
            "config auth.bearer_tokens[0].token_env: environment variable "
            "SLUICE_TEST_UNSET_VAR is not set");
  EXPECT_EQ(bad("basic: [{password: pw}]"),
            "config auth.basic[0]: username is required and may not contain ':'");
  EXPECT_EQ(bad("bearer_tokens: [{token: 'two words'}]"),
            "config auth.bearer_tokens[0]: a token may not contain spaces");
  EXPECT_EQ(bad("bearer_tokens: [{token: t0k3n, pipelines: a}]"),
            "config auth.bearer_tokens[0]: pipelines must be a list of pipeline ids");
  EXPECT_EQ(bad("bearer_tokens: {token: t}"), "config auth.bearer_tokens: must be a list");
}

TEST(Auth, SingleToken) {
  auto a = Authenticator::SingleToken("admin-token");
  EXPECT_TRUE(a->Check("Bearer admin-token", "").ok());
  EXPECT_TRUE(absl::IsUnauthenticated(a->Check("Bearer admin-tokeN", "")));
  EXPECT_FALSE(Authenticator::SingleToken("")->enabled());
}

TEST(Auth, HolderSwapsWhole) {
  AuthHolder h(Authenticator::SingleToken("one"));
  auto before = h.Get();
  h.Set(Authenticator::SingleToken("two"));
  EXPECT_TRUE(before->Check("Bearer one", "").ok());  // a request in flight keeps its own
  EXPECT_TRUE(h.Get()->Check("Bearer two", "").ok());
  EXPECT_FALSE(h.Get()->Check("Bearer one", "").ok());
}

}  // namespace
}  // namespace sluice::receivers
