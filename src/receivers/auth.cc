#include "receivers/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "core/cat.h"
#include "core/secret.h"

namespace sluice::receivers {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(Cat("config ", where, ": ", what));
}

// A credential's `pipelines`: absent means every pipeline; a list of ids otherwise.
Status Pipelines(const YAML::Node& n, std::string_view where, bool* all,
                 std::vector<std::string>* out) {
  const YAML::Node p = n["pipelines"];
  if (!p || p.IsNull()) return absl::OkStatus();
  if (!p.IsSequence()) return Bad(where, "pipelines must be a list of pipeline ids");
  *all = false;
  for (const auto& id : p) {
    if (!id.IsScalar() || id.as<std::string>().empty())
      return Bad(where, "pipelines must be a list of pipeline ids");
    out->push_back(id.as<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace

Authenticator::Digest Authenticator::Hash(std::string_view secret) {
  Digest d{};
  unsigned int n = 0;
  EVP_Digest(secret.data(), secret.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

StatusOr<std::shared_ptr<const Authenticator>> Authenticator::FromConfig(const YAML::Node& auth) {
  auto a = std::make_shared<Authenticator>();
  if (!auth || auth.IsNull()) return std::shared_ptr<const Authenticator>(a);
  if (!auth.IsMap()) return Bad("auth", "must be a mapping (bearer_tokens, basic)");
  for (const char* kind : {"bearer_tokens", "basic"}) {
    const YAML::Node list = auth[kind];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) return Bad(Cat("auth.", kind), "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node n = list[i];
      const std::string where = Cat("auth.", kind, "[", i, "]");
      if (!n.IsMap()) return Bad(where, "must be a mapping");
      Credential c;
      c.basic = std::string_view(kind) == "basic";
      auto secret = ReadSecret(n, c.basic ? "password" : "token", Cat("config ", where));
      if (!secret.ok()) return secret.status();
      if (secret->empty())
        return Bad(where, c.basic ? "give password, password_env or password_file"
                                  : "give token, token_env or token_file");
      if (c.basic) {
        const std::string user = n["username"] && n["username"].IsScalar()
                                     ? n["username"].as<std::string>()
                                     : std::string();
        if (user.empty() || user.find(':') != std::string::npos)
          return Bad(where, "username is required and may not contain ':'");
        c.digest = Hash(Cat(user, ":", *secret));
      } else {
        if (secret->find_first_of(" \t") != std::string::npos)
          return Bad(where, "a token may not contain spaces");
        c.digest = Hash(*secret);
      }
      if (Status s = Pipelines(n, where, &c.all_pipelines, &c.pipelines); !s.ok()) return s;
      a->credentials_.push_back(std::move(c));
    }
  }
  bool basic = false;
  for (const auto& c : a->credentials_) basic |= c.basic;
  a->challenge_ =
      basic ? "Bearer realm=\"sluice\", Basic realm=\"sluice\"" : "Bearer realm=\"sluice\"";
  return std::shared_ptr<const Authenticator>(a);
}

std::shared_ptr<const Authenticator> Authenticator::SingleToken(std::string_view token) {
  auto a = std::make_shared<Authenticator>();
  a->challenge_ = "Bearer realm=\"sluice\"";
  if (!token.empty()) {
    Credential c;
    c.digest = Hash(token);
    a->credentials_.push_back(std::move(c));
  }
  return a;
}

Status Authenticator::Check(std::string_view authorization, std::string_view pipeline_id) const {
  if (credentials_.empty()) return absl::OkStatus();
  authorization = TrimSpaces(authorization);
  const size_t sp = authorization.find(' ');
  const std::string_view scheme = authorization.substr(0, sp);
  const std::string_view rest =
      sp == std::string_view::npos ? std::string_view() : TrimSpaces(authorization.substr(sp + 1));
  bool basic;
  std::string presented;
  if (absl::EqualsIgnoreCase(absl::string_view(scheme.data(), scheme.size()), "Bearer")) {
    basic = false;
    presented = std::string(rest);
  } else if (absl::EqualsIgnoreCase(absl::string_view(scheme.data(), scheme.size()), "Basic")) {
    basic = true;
    if (!absl::Base64Unescape(absl::string_view(rest.data(), rest.size()), &presented))
      presented.clear();
  } else {
    return absl::UnauthenticatedError(std::string(kBadCredentials));
  }
  if (presented.empty()) return absl::UnauthenticatedError(std::string(kBadCredentials));
  const Digest d = Hash(presented);
  // Every credential is compared (no early exit): the time does not tell which matched.
  bool known = false, allowed = false;
  for (const Credential& c : credentials_) {
    const bool match = c.basic == basic && CRYPTO_memcmp(c.digest.data(), d.data(), d.size()) == 0;
    known |= match;
    if (match && !allowed) {
      allowed = c.all_pipelines;
      for (const std::string& id : c.pipelines) allowed |= id == pipeline_id;
    }
  }
  if (!known) return absl::UnauthenticatedError(std::string(kBadCredentials));
  if (!allowed)
    return absl::PermissionDeniedError(
        Cat("these credentials may not write to pipeline '",
            pipeline_id.substr(0, std::min<size_t>(pipeline_id.size(), 256)), "'"));
  return absl::OkStatus();
}

}  // namespace sluice::receivers
