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
    out << record_to_json_line(r) << "\n"
        << record_to_json_line(rec(10, "full-virt", 1, 20)) << "\n"
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

// Efficiency pairs each guest run with the baseline's run of the same
// workload, value and repeat, never another repeat's or another size's.
TEST(ExperimentResults, ARelativeMeasureTakesTheBaselineRunOfTheSameValueAndRepeat) {
  auto s = parse_spec(R"({"name": "t",
    "workloads": [{"id": "w", "scenario": "compute", "param": "n", "values": [10, 100]}],
    "modes": ["native", "emulation"], "baseline": "native", "repeat": 2,
    "measures": [{"id": "m", "query": {"measure": "span_ns", "between": "{phase}"}, "per": "unit"},
                 {"id": "eff", "relative_to": "m", "scale": 100}]})",
                      "t.json");
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto r = [](uint64_t x, const char* mode, int repeat, double v) {
    RunRecord rec;
    rec.key = RunKey{"w", x, mode, repeat};
    rec.ok = true;
    rec.measures["m"] = MeasureValue{v, v * double(x), ""};
    return rec;
  };
  std::vector<RunRecord> rs = {r(10, "native", 1, 5),     r(10, "emulation", 1, 20), r(10, "native", 2, 8),
                               r(10, "emulation", 2, 10), r(100, "native", 1, 3),    r(100, "emulation", 1, 300),
                               r(100, "emulation", 2, 6)};
  apply_baseline(s.value(), rs);
  auto eff = [&](size_t i) { return rs[i].measures.at("eff"); };
  EXPECT_DOUBLE_EQ(*eff(1).value, 25.0) << "5 / 20 (repeat 1 with repeat 1)";
  EXPECT_DOUBLE_EQ(*eff(3).value, 80.0) << "8 / 10 (repeat 2 with repeat 2)";
  EXPECT_DOUBLE_EQ(*eff(5).value, 1.0) << "3 / 300 at n=100";
  EXPECT_DOUBLE_EQ(*eff(0).value, 100.0) << "the baseline against itself";
  EXPECT_FALSE(eff(6).value.has_value()) << "no native run at n=100, repeat 2";
  EXPECT_NE(eff(6).problem.find("no native run"), std::string::npos) << eff(6).problem;
  // Applying again (after more runs) gives the same, not a ratio of ratios.
  apply_baseline(s.value(), rs);
  EXPECT_DOUBLE_EQ(*eff(1).value, 25.0);
  auto series = series_of(s.value(), rs, "w", "eff");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[1].mode, "emulation");
  EXPECT_DOUBLE_EQ(series[1].points[0].y.median, (25.0 + 80.0) / 2) << "the median over repeats of each pair's ratio";
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
