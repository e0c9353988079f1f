// Who may write: the credentials of the OTLP receivers (bearer tokens and basic-auth users,
// each optionally bound to a set of pipeline ids) and the admin listener's token. Secrets
// are kept only as SHA-256 digests and compared in constant time (every credential is
// compared, whatever matched). Answers leak nothing: which part was wrong, nor whether a
// pipeline the credentials may not write to exists.
// Immutable after construction; thread-safe. AuthHolder swaps them on `sluice reload`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::receivers {

inline constexpr std::string_view kBadCredentials = "missing or invalid credentials";

class Authenticator {
 public:
  // From the server config's `auth` node: `bearer_tokens: [{token|token_env|token_file,
  // pipelines}]` and `basic: [{username, password|password_env|password_file, pipelines}]`.
  // A null node: no credentials, every request is let through. (Unknown keys are the
  // server config's check.)
  static StatusOr<std::shared_ptr<const Authenticator>> FromConfig(const YAML::Node& auth);
  // One bearer token allowed everything (the admin listener's); "" : no credentials.
  static std::shared_ptr<const Authenticator> SingleToken(std::string_view token);

  bool enabled() const { return !credentials_.empty(); }
  size_t size() const { return credentials_.size(); }
  // The WWW-Authenticate value of a 401: Bearer, and Basic when users are configured.
  const std::string& challenge() const { return challenge_; }

  // `authorization` is the Authorization header (gRPC: the authorization metadata), ""
  // when absent; `pipeline_id` the pipeline written to. OK when disabled or allowed;
  // Unauthenticated (kBadCredentials); PermissionDenied naming the pipeline.
  Status Check(std::string_view authorization, std::string_view pipeline_id) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Credential {
    bool basic = false;
    Digest digest{};  // SHA-256 of the token, or of "username:password"
    bool all_pipelines = true;
    std::vector<std::string> pipelines;  // when !all_pipelines
  };
  static Digest Hash(std::string_view secret);

  std::vector<Credential> credentials_;
  std::string challenge_;
};

// The authenticator in force; replaced whole on reload. Thread-safe.
class AuthHolder {
 public:
  explicit AuthHolder(std::shared_ptr<const Authenticator> a) : current_(std::move(a)) {}
  std::shared_ptr<const Authenticator> Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void Set(std::shared_ptr<const Authenticator> a) {
    std::lock_guard lock(mu_);
    current_ = std::move(a);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Authenticator> current_;
};

}  // namespace sluice::receivers
