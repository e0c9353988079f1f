#include "receivers/server_tls.h"

#include <openssl/ssl.h>

#include "core/log.h"

namespace sluice::receivers {

StatusOr<std::unique_ptr<ServerTls>> ServerTls::Create(TlsServerOptions options,
                                                       std::string_view alpn,
                                                       std::shared_ptr<ListenerStats> stats) {
  std::unique_ptr<ServerTls> t(new ServerTls(std::move(options), alpn, std::move(stats)));
  if (Status s = t->Build(); !s.ok()) return s;
  t->stats_->tls = true;
  return t;
}

std::shared_ptr<boost::asio::ssl::context> ServerTls::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::array<ServerTls::FileMark, 3> ServerTls::Marks() const {
  std::array<FileMark, 3> m;
  const std::string* files[3] = {&options_.cert_file, &options_.key_file, &options_.client_ca_file};
  for (int i = 0; i < 3; ++i) {
    struct stat st;
    if (files[i]->empty() || ::stat(files[i]->c_str(), &st) != 0) continue;
    m[i] = {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  }
  return m;
}

Status ServerTls::Build() {
  // Marks first: a file changed during the build is seen changed at the next check.
  const auto marks = Marks();
  int64_t not_after = 0;
  auto ctx = BuildServerContext(options_, alpn_, &not_after);
  if (!ctx.ok()) return ctx.status();
  auto fresh = std::make_shared<boost::asio::ssl::context>(*ctx);  // takes ownership
  std::lock_guard lock(mu_);
  current_ = std::move(fresh);
  marks_ = marks;
  stats_->tls_not_after = not_after;
  return absl::OkStatus();
}

bool ServerTls::Refresh(bool force) {
  std::lock_guard refresh(refresh_mu_);
  {
    std::lock_guard lock(mu_);
    if (!force && Marks() == marks_) return false;
  }
  Status s = Build();
  if (!s.ok()) {
    stats_->tls_reloads_failed++;
    // Once per change: the marks are taken so a broken pair is not retried every tick.
    std::lock_guard lock(mu_);
    marks_ = Marks();
    SLOG(ERROR) << stats_->name
                << " listener: keeping the previous TLS certificate: " << s.message();
    return false;
  }
  stats_->tls_reloads_ok++;
  SLOG(INFO) << stats_->name << " listener: TLS certificate reloaded from " << options_.cert_file;
  return true;
}

}  // namespace sluice::receivers
