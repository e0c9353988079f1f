#include "core/fs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sluice {
namespace {

class PosixFs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-fs-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

// More parts than one pwritev takes (IOV_MAX), some empty: written in order, nothing lost.
TEST_F(PosixFs, AppendPartsWritesEveryPartInOrder) {
  Filesystem* fs = PosixFilesystem();
  auto f = fs->OpenForAppend(Path("parts"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("head:").ok());
  std::vector<std::string> storage;
  std::string want = "head:";
  for (int i = 0; i < 3000; ++i) {
    storage.push_back(i % 7 == 0 ? std::string() : std::to_string(i) + ",");
    want += storage.back();
  }
  std::vector<std::string_view> parts(storage.begin(), storage.end());
  ASSERT_TRUE((*f)->AppendParts(parts).ok());
  EXPECT_EQ((*f)->Size(), want.size());
  auto got = fs->ReadFile(Path("parts"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want);
}

// A reused file: writes start at the given offset and leave the rest as it was.
TEST_F(PosixFs, OpenAtOverwritesInPlace) {
  Filesystem* fs = PosixFilesystem();
  ASSERT_TRUE(fs->WriteFileAtomic(Path("reuse"), "0123456789").ok());
  auto f = fs->OpenAt(Path("reuse"), 2);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("ab").ok());
  EXPECT_EQ((*f)->Size(), 4u);
  ASSERT_TRUE((*f)->WriteAt(8, "Z").ok());
  EXPECT_EQ((*f)->Size(), 4u);
  EXPECT_EQ(*fs->ReadFile(Path("reuse")), "01ab4567Z9");
}

}  // namespace
}  // namespace sluice
