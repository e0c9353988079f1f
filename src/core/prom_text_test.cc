#include "core/prom_text.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(PromText, CounterWithEscapedLabels) {
  PromText p;
  p.Family("x_total", "counter", "Things\\counted\nhere.");
  p.Sample("x_total", {{"pipeline_id", "a\"b\\c\nd"}}, uint64_t{18446744073709551615u});
  p.Sample("x_total", {}, 2.5);
  EXPECT_EQ(p.text(),
            "# HELP x_total Things\\\\counted\\nhere.\n"
            "# TYPE x_total counter\n"
            "x_total{pipeline_id=\"a\\\"b\\\\c\\nd\"} 18446744073709551615\n"
            "x_total 2.5\n");
}

TEST(PromText, HistogramIsCumulative) {
  static constexpr double kBounds[] = {0.5, 2};
  Histogram h(kBounds);
  h.Observe(0.5);  // on the bound: that bucket
  h.Observe(1);
  h.Observe(100);
  PromText p;
  p.Observations("d_seconds", {{"t", "http"}}, h);
  EXPECT_EQ(p.text(),
            "d_seconds_bucket{t=\"http\",le=\"0.5\"} 1\n"
            "d_seconds_bucket{t=\"http\",le=\"2\"} 2\n"
            "d_seconds_bucket{t=\"http\",le=\"+Inf\"} 3\n"
            "d_seconds_sum{t=\"http\"} 101.5\n"
            "d_seconds_count{t=\"http\"} 3\n");
}

}  // namespace
}  // namespace sluice
