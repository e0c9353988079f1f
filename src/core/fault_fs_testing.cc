#include "core/fault_fs_testing.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "core/cat.h"

namespace sluice::testing {

class FaultWritable : public WritableFile {
 public:
  FaultWritable(FaultFs* fs, std::shared_ptr<FaultFs::Data> d, uint64_t pos)
      : fs_(fs), d_(std::move(d)), pos_(pos) {}
  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    auto& f = fs_->faults_;
    if (f.short_writes > 0) {
      --f.short_writes;
      (void)Write(data.substr(0, data.size() / 2));
      return absl::UnavailableError("injected short write");
    }
    if (f.space_left >= 0 && static_cast<uint64_t>(f.space_left) < data.size()) {
      (void)Write(data.substr(0, static_cast<size_t>(f.space_left)));
      f.space_left = 0;
      return Overloaded("injected ENOSPC");
    }
    if (f.space_left >= 0) f.space_left -= static_cast<int64_t>(data.size());
    return Write(data);
  }
  Status AppendParts(std::span<const std::string_view> parts) override {
    std::string all;
    for (std::string_view p : parts) all.append(p);
    return Append(all);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    const uint64_t pos = pos_;
    pos_ = offset;
    Status s = Write(data);
    pos_ = pos;
    return s;
  }
  Status Sync() override {
    int delay;
    {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      delay = fs_->faults_.sync_delay_us;
    }
    if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (fs_->faults_.fail_syncs > 0) {
      --fs_->faults_.fail_syncs;
      return absl::UnavailableError("injected fsync failure");
    }
    d_->durable = d_->bytes;
    ++fs_->syncs_;
    return absl::OkStatus();
  }
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (size < d_->bytes.size()) {
      if (fs_->faults_.space_left >= 0) fs_->faults_.space_left += d_->bytes.size() - size;
      d_->bytes.resize(size);
    }
    d_->allocated = std::min<uint64_t>(d_->allocated, size);  // blocks past the end go too
    pos_ = size;
    return absl::OkStatus();
  }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    return pos_;
  }

 private:
  Status Write(std::string_view data) {  // mu_ held
    const int64_t disk = fs_->faults_.disk_bytes;
    Status s;
    if (disk >= 0) {
      const uint64_t end = pos_ + data.size(), have = d_->footprint();
      const uint64_t growth = end > have ? end - have : 0;
      const uint64_t used = fs_->Used();
      const uint64_t room = static_cast<uint64_t>(disk) > used ? disk - used : 0;
      if (growth > room) {
        data = data.substr(0, static_cast<size_t>(have + room > pos_ ? have + room - pos_ : 0));
        s = Overloaded("injected ENOSPC (disk full)");
      }
    }
    if (d_->bytes.size() < pos_ + data.size()) d_->bytes.resize(pos_ + data.size());
    d_->bytes.replace(pos_, data.size(), data);
    pos_ += data.size();
    return s;
  }
  FaultFs* fs_;
  std::shared_ptr<FaultFs::Data> d_;
  uint64_t pos_;
};

class FaultReadable : public ReadableFile {
 public:
  FaultReadable(FaultFs* fs, std::shared_ptr<FaultFs::Data> d) : fs_(fs), d_(std::move(d)) {}
  StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* out) const override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (offset >= d_->bytes.size()) return size_t{0};
    size_t k = std::min<size_t>(n, d_->bytes.size() - offset);
    std::memcpy(out, d_->bytes.data() + offset, k);
    return k;
  }
  StatusOr<uint64_t> Size() const override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    return static_cast<uint64_t>(d_->bytes.size());
  }

 private:
  FaultFs* fs_;
  std::shared_ptr<FaultFs::Data> d_;
};

void FaultFs::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, d] : files_) {
    // Writes since the last sync reach the disk in order and stop at a random point:
    // from there on the file holds what it held at that sync (nothing, past its end).
    size_t first_change = 0;
    const size_t common = std::min(d->bytes.size(), d->durable.size());
    while (first_change < common && d->bytes[first_change] == d->durable[first_change])
      ++first_change;
    if (first_change == common && d->bytes.size() == d->durable.size()) continue;
    const uint64_t unsynced = d->bytes.size() - first_change;
    const size_t cut = first_change + static_cast<size_t>(rng_() % (unsynced + 1));
    std::string after = cut < d->durable.size() ? d->durable.substr(cut) : std::string();
    d->bytes.resize(cut);
    d->bytes += after;
    d->durable = d->bytes;
  }
}

void FaultFs::FlipByte(const std::string& path, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& b = files_.at(path)->bytes;
  b[offset] = static_cast<char>(b[offset] ^ 0x5a);
}

uint64_t FaultFs::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->bytes.size();
}

StatusOr<std::unique_ptr<WritableFile>> FaultFs::OpenForAppend(const std::string& path) {
  return OpenWritable(path, std::nullopt);
}

StatusOr<std::unique_ptr<WritableFile>> FaultFs::OpenAt(const std::string& path, uint64_t offset) {
  return OpenWritable(path, offset);
}

std::unique_ptr<WritableFile> FaultFs::OpenWritable(const std::string& path,
                                                    std::optional<uint64_t> offset) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& d = files_[path];
  if (!d) d = std::make_shared<Data>();
  return std::make_unique<FaultWritable>(this, d, offset.value_or(d->bytes.size()));
}

StatusOr<std::unique_ptr<ReadableFile>> FaultFs::OpenForRead(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(Cat("no file ", path));
  return std::unique_ptr<ReadableFile>(new FaultReadable(this, it->second));
}

StatusOr<std::vector<std::string>> FaultFs::List(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  const std::string prefix = dir + "/";
  for (const auto& [path, d] : files_)
    if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos)
      out.push_back(path.substr(prefix.size()));
  return out;
}

Status FaultFs::CreateDirs(const std::string&) { return absl::OkStatus(); }

Status FaultFs::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  return absl::OkStatus();
}

Status FaultFs::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return absl::NotFoundError(Cat("no file ", from));
  files_[to] = it->second;
  files_.erase(it);
  return absl::OkStatus();
}

Status FaultFs::SyncDir(const std::string&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (faults_.fail_syncs > 0) {
    --faults_.fail_syncs;
    return absl::UnavailableError("injected directory fsync failure");
  }
  return absl::OkStatus();
}

uint64_t FaultFs::Used() const {
  uint64_t used = 0;
  for (const auto& [path, d] : files_) used += d->footprint();
  return used;
}

uint64_t FaultFs::used_bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return Used();
}

Status FaultFs::Allocate(const std::string& path, uint64_t bytes, bool keep_size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& d = files_[path];
  if (!d) d = std::make_shared<Data>();
  const uint64_t growth = bytes > d->footprint() ? bytes - d->footprint() : 0;
  if (faults_.disk_bytes >= 0 && Used() + growth > static_cast<uint64_t>(faults_.disk_bytes))
    return Overloaded(Cat("injected ENOSPC allocating ", path));
  d->allocated = std::max(d->allocated, bytes);
  if (!keep_size && d->bytes.size() < bytes) d->bytes.resize(bytes);
  return absl::OkStatus();
}

StatusOr<Filesystem::Space> FaultFs::SpaceOf(const std::string&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (faults_.disk_bytes < 0) return Space{uint64_t{1} << 40, uint64_t{1} << 40};
  const uint64_t used = Used(), disk = static_cast<uint64_t>(faults_.disk_bytes);
  return Space{disk, disk > used ? disk - used : 0};
}

bool FaultFs::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(path) > 0;
}

}  // namespace sluice::testing
