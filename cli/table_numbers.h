// table_numbers.h — figures as a paper's table prints them: fixed point,
// digits chosen by magnitude, thousands grouped, a unit where there is one,
// never an exponent (`compare`'s table, docs/compare.md).
#pragma once

#include <string>

namespace ringscope::cli {

// Decimals for a figure of this size: 0 from 100 up, 1 from 10, 2 from 1,
// three significant digits below 1 (at most 9 decimals).
int decimals_for(double v);
// "25,130", "6.55", "0.0412"; "-" for NaN and infinities.
std::string fixed_figure(double v);
// `v` with exactly `decimals` decimals, thousands grouped.
std::string fixed_figure(double v, int decimals);
// A count, rounded to a whole number: "25,130".
std::string count_text(double v);
// A duration in the unit its size calls for: "412 ns", "906 µs", "6.55 ms", "1.20 s".
std::string duration_text(double ns);
// A median and its spread in the median's unit and decimals: "6.55 ms (6.41-6.80)";
// just the median when min and max print the same.
std::string duration_spread_text(double median_ns, double min_ns, double max_ns);
// A ratio: "65,532×", "0.0700×".
std::string ratio_text(double v);

}  // namespace ringscope::cli
