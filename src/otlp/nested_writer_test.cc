#include "otlp/nested_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "otlp/wire.h"

namespace sluice::otlp {
namespace {

// A random tree of messages written twice: with NestedWriter, and naively (each child
// built in its own string, then appended with its length). The bytes must be equal.
struct Gen {
  std::mt19937 rng;
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

  // Writes one message's content to both outputs.
  void Content(int depth, NestedWriter* w, std::string* fast, std::string* naive) {
    const int n = Int(0, depth > 6 ? 1 : 4);
    for (int i = 0; i < n; ++i) {
      if (Int(0, 2) == 0 || depth > 8) {
        // A string field, sometimes long enough for a multi-byte length.
        std::string s(Int(0, 1) ? Int(0, 20) : Int(100, 20000), 'a' + Int(0, 25));
        PutTag(1, kLen, fast);
        PutVarint(s.size(), fast);
        fast->append(s);
        PutTag(1, kLen, naive);
        PutVarint(s.size(), naive);
        naive->append(s);
        continue;
      }
      const uint32_t field = Int(2, 300);
      const size_t h = w->Open(field);
      std::string child;
      Content(depth + 1, w, fast, &child);
      w->Close(h);
      PutTag(field, kLen, naive);
      PutVarint(child.size(), naive);
      naive->append(child);
    }
  }
};

TEST(NestedWriter, SameBytesAsBuildingEachChildSeparately) {
  for (int seed = 0; seed < 300; ++seed) {
    Gen g{std::mt19937(seed)};
    std::string fast = "prefix", naive = "prefix";
    NestedWriter w(&fast);
    g.Content(0, &w, &fast, &naive);
    w.Finish();
    ASSERT_EQ(fast, naive) << "seed " << seed;
  }
}

TEST(NestedWriter, DeepChainOfEmptyAndLargeMessages) {
  std::string fast, naive = std::string(70000, 'z');
  NestedWriter w(&fast);
  std::vector<size_t> open;
  for (int i = 0; i < 1000; ++i) open.push_back(w.Open(1));
  fast.append(70000, 'z');
  for (size_t i = open.size(); i-- > 0;) w.Close(open[i]);
  w.Finish();
  for (int i = 0; i < 1000; ++i) {
    std::string head;
    PutTag(1, kLen, &head);
    PutVarint(naive.size(), &head);
    naive = head + naive;
  }
  EXPECT_EQ(fast, naive);
}

}  // namespace
}  // namespace sluice::otlp
