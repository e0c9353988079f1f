#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/cat.h"

namespace sluice {
namespace {

Status Errno(std::string_view what, const std::string& path, int err) {
  std::string msg = Cat(what, " ", path, ": ", std::strerror(err));
  // A full disk is overload, not a fault: clients retry later.
  if (err == ENOSPC || err == EDQUOT) return Overloaded(msg);
  return absl::UnavailableError(msg);
}

class PosixWritable : public WritableFile {
 public:
  PosixWritable(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixWritable() override { ::close(fd_); }
  Status Append(std::string_view data) override {
    uint64_t written = 0;
    Status s = WriteAll(size_, data, &written);
    size_ += written;
    return s;
  }
  Status AppendParts(std::span<const std::string_view> parts) override {
    std::vector<iovec> iov;
    iov.reserve(parts.size());
    for (std::string_view p : parts)
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    size_t next = 0;  // first iovec not completely written
    while (next < iov.size()) {
      const int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
      ssize_t n = ::pwritev(fd_, iov.data() + next, count, static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("pwritev", path_, errno);
      }
      size_ += static_cast<uint64_t>(n);
      for (size_t done = static_cast<size_t>(n); done > 0 && next < iov.size();) {
        const size_t k = std::min(done, iov[next].iov_len);
        iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + k;
        iov[next].iov_len -= k;
        done -= k;
        if (iov[next].iov_len == 0) ++next;
      }
    }
    return absl::OkStatus();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    uint64_t written = 0;
    return WriteAll(offset, data, &written);
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_, errno);
    return absl::OkStatus();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno("ftruncate", path_, errno);
    size_ = size;
    return absl::OkStatus();
  }
  uint64_t Size() const override { return size_; }

 private:
  // pwrite until all of `data` is at `offset`; *written counts the bytes that made it, also
  // on failure.
  Status WriteAll(uint64_t offset, std::string_view data, uint64_t* written) {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset + *written));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("pwrite", path_, errno);
      }
      *written += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  int fd_;
  std::string path_;
  uint64_t size_;
};

class PosixReadable : public ReadableFile {
 public:
  PosixReadable(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadable() override { ::close(fd_); }
  StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* out) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("pread", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }
  StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Errno("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
  std::string path_;
};

class Posix : public Filesystem {
 public:
  StatusOr<std::unique_ptr<WritableFile>> OpenForAppend(const std::string& path) override {
    return Open(path, std::nullopt);
  }
  StatusOr<std::unique_ptr<WritableFile>> OpenAt(const std::string& path,
                                                 uint64_t offset) override {
    return Open(path, offset);
  }
  StatusOr<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open", path, errno);
    return std::unique_ptr<ReadableFile>(new PosixReadable(fd, path));
  }
  StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Errno("opendir", dir, errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    return names;
  }
  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return absl::UnavailableError(Cat("mkdir ", dir, ": ", ec.message()));
    return absl::OkStatus();
  }
  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path, errno);
    return absl::OkStatus();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename", from, errno);
    return absl::OkStatus();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Errno("fsync", dir, err);
    return absl::OkStatus();
  }
  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Status Allocate(const std::string& path, uint64_t bytes, bool keep_size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open", path, errno);
    int rc = ::fallocate(fd, keep_size ? FALLOC_FL_KEEP_SIZE : 0, 0, static_cast<off_t>(bytes));
    int err = errno;
    if (rc != 0 && (err == EOPNOTSUPP || err == ENOSYS) && !keep_size) {
      rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));  // writes zeros instead
      err = rc;
    }
    ::close(fd);
    if (rc != 0) {
      // A filesystem that cannot preallocate: fine, the blocks come at write time.
      if (err == EOPNOTSUPP || err == ENOSYS) return absl::OkStatus();
      return Errno("fallocate", path, err);
    }
    return absl::OkStatus();
  }
  StatusOr<Space> SpaceOf(const std::string& dir) override {
    struct statvfs st;
    if (::statvfs(dir.c_str(), &st) != 0) return Errno("statvfs", dir, errno);
    return Space{static_cast<uint64_t>(st.f_blocks) * st.f_frsize,
                 static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
  }

 private:
  // Writes go through pwrite at the file's own position (no O_APPEND, which would ignore it).
  static StatusOr<std::unique_ptr<WritableFile>> Open(const std::string& path,
                                                      std::optional<uint64_t> offset) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return Errno("fstat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritable(fd, path, offset.value_or(static_cast<uint64_t>(st.st_size))));
  }
};

}  // namespace

StatusOr<std::string> Filesystem::ReadFile(const std::string& path) {
  auto f = OpenForRead(path);
  if (!f.ok()) return f.status();
  auto size = (*f)->Size();
  if (!size.ok()) return size.status();
  std::string out(*size, '\0');
  auto n = (*f)->ReadAt(0, out.size(), out.data());
  if (!n.ok()) return n.status();
  out.resize(*n);
  return out;
}

Status Filesystem::WriteFileAtomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  Status s = Remove(tmp);
  if (!s.ok()) return s;
  auto f = OpenForAppend(tmp);
  if (!f.ok()) return f.status();
  s = (*f)->Append(contents);
  if (s.ok()) s = (*f)->Sync();
  f->reset();
  if (s.ok()) s = Rename(tmp, path);
  if (s.ok()) s = SyncDir(std::filesystem::path(path).parent_path().string());
  return s;
}

Filesystem* PosixFilesystem() {
  static Posix fs;
  return &fs;
}

}  // namespace sluice
