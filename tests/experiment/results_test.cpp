// results_test.cpp — the grid's order, run records (and a torn last line),
// medians, the fit of fixed cost + cost per unit, and crossings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "results.h"

namespace ringscope::experiment {
namespace {

Spec two_modes() {
  auto s = parse_spec(R"({"name": "t",
    "workloads": [{"id": "w", "scenario": "console-write", "param": "bytes", "values": [10, 100, 1000]}],
    "modes": ["full-virt", "paravirt"], "repeat": 3,
    "measures": [{"id": "m", "query": {"kind": "vm_exit", "between": "{phase}"}, "per": "unit"}],
    "fit": ["m"]})",
                      "t.json");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value();
}

RunRecord rec(uint64_t x, const std::string& mode, int repeat, double raw, bool ok = true) {
  RunRecord r;
  r.key = RunKey{"w", x, mode, repeat};
  r.ok = ok;
  r.measures["m"] = MeasureValue{raw / double(x), raw, ""};
  return r;
}

TEST(ExperimentResults, TheGridRunsEveryModeAtASizeBeforeTheNextSize) {
  Spec s = two_modes();
  auto g = grid(s);
  ASSERT_EQ(g.size(), 3u * 3u * 2u);
  EXPECT_EQ(g[0], (RunKey{"w", 10, "full-virt", 1}));
  EXPECT_EQ(g[1], (RunKey{"w", 10, "paravirt", 1}));
  EXPECT_EQ(g[2], (RunKey{"w", 10, "full-virt", 2}));
  EXPECT_EQ(g.back(), (RunKey{"w", 1000, "paravirt", 3}));
}

TEST(ExperimentResults, RecordsRoundTripAndATornLastLineIsDropped) {
  RunRecord r = rec(100, "paravirt", 2, 7);
  r.message = "guest status 0";
  r.measures["n"] = MeasureValue{std::nullopt, std::nullopt, "the phase \"x\" is not in run 's trace"};
  auto back = record_from_json_line(record_to_json_line(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->key, r.key);
  EXPECT_EQ(back->measures.at("m").raw, 7);
  EXPECT_FALSE(back->measures.at("n").value.has_value());
  EXPECT_EQ(back->measures.at("n").problem, r.measures["n"].problem);

  auto file = std::filesystem::temp_directory_path() / ("rs-records-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream out(file);
    out << record_to_json_line(r) << "\n" << record_to_json_line(rec(10, "full-virt", 1, 20)) << "\n"
        << record_to_json_line(r).substr(0, 30);  // killed mid-write
  }
  auto all = read_records(file);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->size(), 2u);
  {
    std::ofstream out(file);
    out << "{broken\n" << record_to_json_line(r) << "\n";
  }
  EXPECT_FALSE(read_records(file).ok()) << "a bad line in the middle is an error, not silently dropped";
  std::filesystem::remove(file);
}

TEST(ExperimentResults, MediansSpreadFitAndCrossing) {
  Spec s = two_modes();
  std::vector<RunRecord> rs;
  // full-virt: 2 exits per unit, no set-up; paravirt: 50 set-up, 0.1 per unit.
  for (uint64_t x : {10, 100, 1000})
    for (int r = 1; r <= 3; r++) {
      rs.push_back(rec(x, "full-virt", r, 2.0 * double(x) + (r - 2)));  // spread ±1 around the median
      rs.push_back(rec(x, "paravirt", r, 50 + 0.1 * double(x)));
    }
  rs.push_back(rec(10, "paravirt", 4, 1e9, false));  // a failed run does not count
  auto series = series_of(s, rs, "w", "m");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].mode, "full-virt");
  ASSERT_EQ(series[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ(series[0].points[1].y.median, 2.0);
  EXPECT_DOUBLE_EQ(series[0].points[1].y.min, 1.99);
  EXPECT_DOUBLE_EQ(series[0].points[1].y.max, 2.01);
  EXPECT_EQ(series[1].points[0].y.n, 3);

  auto fits = fits_of(s, rs);
  ASSERT_EQ(fits.size(), 2u);
  EXPECT_NEAR(fits[1].a, 50, 1e-6);
  EXPECT_NEAR(fits[1].b, 0.1, 1e-9);
  ASSERT_TRUE(fits[1].crossover.has_value());
  EXPECT_NEAR(*fits[1].crossover, 500, 1e-6) << "set-up equals the per-unit cost at 500 units";
  EXPECT_NEAR(fits[0].b, 2, 1e-9);

  // Per unit: full-virt 2; paravirt 5.1 at 10, 0.6 at 100: the lines cross between 10 and 100.
  auto cross = crossings_of(s, rs);
  ASSERT_EQ(cross.size(), 1u);
  EXPECT_EQ(cross[0].below, 10u);
  EXPECT_EQ(cross[0].above, 100u);
}

}  // namespace
}  // namespace ringscope::experiment
