// table_numbers.cpp — fixed-point figures for tables (see table_numbers.h).
#include "table_numbers.h"

#include <fmt/format.h>

#include <cmath>

namespace ringscope::cli {

namespace {

struct TimeUnit {
  double ns;
  const char* name;
};
TimeUnit time_unit_for(double ns) {
  double a = std::fabs(ns);
  if (a >= 1e9) return {1e9, "s"};
  if (a >= 1e6) return {1e6, "ms"};
  if (a >= 1e3) return {1e3, "µs"};
  return {1, "ns"};
}

}  // namespace

int decimals_for(double v) {
  double a = std::fabs(v);
  if (!std::isfinite(a) || a == 0 || a >= 100) return 0;
  if (a >= 10) return 1;
  if (a >= 1) return 2;
  int d = 2 - static_cast<int>(std::floor(std::log10(a)));
  return d > 9 ? 9 : d;
}

std::string fixed_figure(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  std::string s = fmt::format("{:.{}f}", std::fabs(v), decimals);
  size_t dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  std::string out;
  for (size_t i = 0; i < int_end; i++) {
    if (i > 0 && (int_end - i) % 3 == 0) out += ',';
    out += s[i];
  }
  out += s.substr(int_end);
  // No "-0": a negative figure keeps its sign only if a non-zero digit shows.
  if (v < 0 && out.find_first_of("123456789") != std::string::npos) out = "-" + out;
  return out;
}

std::string fixed_figure(double v) { return fixed_figure(v, decimals_for(v)); }

std::string count_text(double v) { return fixed_figure(v, 0); }

std::string duration_text(double ns) {
  if (!std::isfinite(ns)) return "-";
  TimeUnit u = time_unit_for(ns);
  return fmt::format("{} {}", fixed_figure(ns / u.ns), u.name);
}

std::string duration_spread_text(double median_ns, double min_ns, double max_ns) {
  if (!std::isfinite(median_ns)) return "-";
  TimeUnit u = time_unit_for(median_ns);
  int d = decimals_for(median_ns / u.ns);
  std::string lo = fixed_figure(min_ns / u.ns, d), hi = fixed_figure(max_ns / u.ns, d);
  std::string med = fixed_figure(median_ns / u.ns, d);
  if (lo == hi && lo == med) return fmt::format("{} {}", med, u.name);
  return fmt::format("{} {} ({}-{})", med, u.name, lo, hi);
}

std::string ratio_text(double v) { return std::isfinite(v) ? fixed_figure(v) + "×" : "-"; }

}  // namespace ringscope::cli
