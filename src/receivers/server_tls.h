// A listener's TLS context, rebuilt when its files change (checked every reload_interval,
// and on demand: `sluice reload`). New connections take the current context; connections
// already open keep the one they started with. A rebuild that fails (a half-written file, a
// key that does not match its certificate) keeps the previous context and is logged and
// counted. Thread-safe.
#pragma once

#include <sys/stat.h>

#include <array>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "core/tls.h"
#include "receivers/listener_stats.h"

namespace sluice::receivers {

// ALPN protocol lists in wire format.
inline constexpr std::string_view kAlpnH2("\x02h2", 3);
inline constexpr std::string_view kAlpnHttp11("\x08http/1.1", 9);

class ServerTls {
 public:
  // Builds the first context: an error (a missing file, a mismatched key) fails the start.
  static StatusOr<std::unique_ptr<ServerTls>> Create(TlsServerOptions options,
                                                     std::string_view alpn,
                                                     std::shared_ptr<ListenerStats> stats);

  std::shared_ptr<boost::asio::ssl::context> Current() const;
  // Rebuilds the context when a file's identity, size or modification time changed (always
  // when `force`). Returns whether a new context is in use.
  bool Refresh(bool force);
  const TlsServerOptions& options() const { return options_; }

 private:
  struct FileMark {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{}, ctime{};  // ctime: a chmod that makes the file readable counts too
    bool operator==(const FileMark& o) const {
      auto same = [](const timespec& a, const timespec& b) {
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
      };
      return dev == o.dev && ino == o.ino && size == o.size && same(mtime, o.mtime) &&
             same(ctime, o.ctime);
    }
  };
  ServerTls(TlsServerOptions options, std::string_view alpn, std::shared_ptr<ListenerStats> stats)
      : options_(std::move(options)), alpn_(alpn), stats_(std::move(stats)) {}
  std::array<FileMark, 3> Marks() const;
  Status Build();

  const TlsServerOptions options_;
  const std::string alpn_;
  const std::shared_ptr<ListenerStats> stats_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mu_
  std::array<FileMark, 3> marks_;                       // guarded by mu_
  std::mutex refresh_mu_;                               // one rebuild at a time
};

}  // namespace sluice::receivers
