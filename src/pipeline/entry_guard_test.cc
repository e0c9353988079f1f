#include "pipeline/entry_guard.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace sluice::pipeline {
namespace {

std::string TempPath() {
  std::string dir = std::filesystem::temp_directory_path() / "sluice_guard_XXXXXX";
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir + "/worker.guard";
}

// A run that dies (here: a child process that exits without cleaning up) while processing
// `seq`, as a crash or kill -9 would.
void DieWhileProcessing(const std::string& path, uint64_t seq) {
  pid_t pid = fork();
  if (pid == 0) {
    auto g = EntryGuard::Open(path, 3);
    if (!g.ok()) _exit(1);
    (*g)->Begin(seq);
    _exit(0);  // no destructor, no End: the mapped page is what survives
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(EntryGuard, QuarantinesAfterThreeRunsEndedOnTheSameEntry) {
  const std::string path = TempPath();
  for (int run = 1; run <= 3; ++run) {
    DieWhileProcessing(path, 42);
    auto g = EntryGuard::Open(path, 3);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ((*g)->suspect(), 42u);
    EXPECT_EQ((*g)->attempts(), static_cast<uint32_t>(run));
    EXPECT_EQ((*g)->quarantined(), run == 3 ? 42u : 0u) << run;
  }
  // Once dealt with (quarantined or processed), the slate is clean.
  auto g = EntryGuard::Open(path, 3);
  ASSERT_TRUE(g.ok());
  (*g)->Begin(42);
  (*g)->End();
  EXPECT_EQ((*g)->suspect(), 0u);
  g->reset();
  g = EntryGuard::Open(path, 3);
  EXPECT_EQ((*g)->quarantined(), 0u);
}

TEST(EntryGuard, AnotherEntryOrProgressPastItStartsOver) {
  const std::string path = TempPath();
  DieWhileProcessing(path, 7);
  DieWhileProcessing(path, 7);
  DieWhileProcessing(path, 9);  // a different entry: the count restarts
  {
    auto g = EntryGuard::Open(path, 3);
    EXPECT_EQ((*g)->suspect(), 9u);
    EXPECT_EQ((*g)->attempts(), 1u);
    (*g)->Begin(10);  // got past it: not to blame
    EXPECT_EQ((*g)->suspect(), 0u);
    (*g)->End();
  }
  // A pause (waiting for ClickHouse) at the time of death is not an attempt.
  pid_t pid = fork();
  if (pid == 0) {
    auto g = EntryGuard::Open(path, 3);
    (*g)->Begin(11);
    (*g)->Pause();
    _exit(0);
  }
  waitpid(pid, nullptr, 0);
  auto g = EntryGuard::Open(path, 3);
  EXPECT_EQ((*g)->suspect(), 0u);
  EXPECT_EQ((*g)->current(), 0u);
}

TEST(EntryGuard, ForeignFileStartsClean) {
  const std::string path = TempPath();
  FILE* f = fopen(path.c_str(), "w");
  fputs("not a guard", f);
  fclose(f);
  auto g = EntryGuard::Open(path, 3);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->suspect(), 0u);
  EXPECT_EQ(std::filesystem::file_size(path), 4096u);
}

}  // namespace
}  // namespace sluice::pipeline
