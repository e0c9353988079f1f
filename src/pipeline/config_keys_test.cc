#include "pipeline/config_keys.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

TEST(ClosestMatch, TyposAndNonTypos) {
  const std::vector<std::string_view> keys = {"max_batch_size", "max_delay_time", "mapping",
                                              "table", "connection_params"};
  EXPECT_EQ(ClosestMatch("max_batch_sise", keys), "max_batch_size");
  EXPECT_EQ(ClosestMatch("max_bacth_size", keys), "max_batch_size");  // a swap is one edit
  EXPECT_EQ(ClosestMatch("tabel", keys), "table");
  EXPECT_EQ(ClosestMatch("mapings", keys), "mapping");
  EXPECT_EQ(ClosestMatch("conection_param", keys), "connection_params");
  EXPECT_EQ(ClosestMatch("zzz", keys), "");
  EXPECT_EQ(ClosestMatch("x", keys), "");
  EXPECT_EQ(ClosestMatch(std::string(100000, 'a'), keys), "");  // long keys: no table built
}

}  // namespace
}  // namespace sluice::pipeline
