// What bench_meta and torch_ref_cpp share, so that the two sides of a side-by-side
// row are timed the same way: the command line (the same flags, checks and help),
// the timing loop, the median, the peak RSS and the JSON numbers. Header-only, with
// no metagrad or libtorch dependency (torch_ref_cpp links libtorch alone).
#pragma once

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli.h"

namespace mg::bench {

struct RunConfig {
  std::string workload = {};
  std::string algo = {};
  int steps = 0;
  int threads = 0;
  int warmup = -1;           // < 0: the workload's default
  int iters = 0;             // 0: the workload's default
  double max_seconds = 0.0;  // 0: no limit
  bool json = false;
};

// The flags of both programs; `threads_help` says what --threads sizes.
inline void add_run_options(CLI::App& app, RunConfig& c, const std::string& threads_help) {
  // CLI::PositiveNumber would print its range up to DBL_MAX in full.
  const CLI::Validator positive(
      [](const std::string& s) {
        double x = 0.0;
        return CLI::detail::lexical_cast(s, x) && x > 0.0 ? std::string() : fmt::format("must be > 0, got {}", s);
      },
      "POSITIVE");
  app.add_option("--workload", c.workload, "sinusoid | omniglot | omniglot_strided | miniimagenet | clinc150")
      ->required()
      ->check(CLI::IsMember({"sinusoid", "omniglot", "omniglot_strided", "miniimagenet", "clinc150"}));
  app.add_option("--algo", c.algo, "maml | fomaml | reptile")
      ->required()
      ->check(CLI::IsMember({"maml", "fomaml", "reptile"}));
  app.add_option("--steps", c.steps, "inner steps during meta-training (>= 1)")
      ->required()
      ->check(CLI::Range(1, 100'000));
  app.add_option("--threads", c.threads, threads_help)->required()->check(CLI::Range(1, 1024));
  app.add_option("--warmup", c.warmup, "untimed iterations first (default: sinusoid 2, the conv nets 1)")
      ->check(CLI::Range(0, 100'000'000));
  app.add_option("--iters", c.iters, "timed iterations (default: sinusoid 200, the conv nets 3)")
      ->check(CLI::Range(1, 100'000'000));
  app.add_option("--max-seconds", c.max_seconds,
                 "stop timing once the timed iterations took this long in total (at least 1 is timed)")
      ->check(positive);
  app.add_flag("--json", c.json, "print one line of JSON instead of the readable line");
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline rusage self_usage() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage;
}

// The process's peak resident memory, MB = 2^20 bytes (ru_maxrss is in KiB).
inline double peak_rss_mb() { return static_cast<double>(self_usage().ru_maxrss) / 1024.0; }

// A JSON number; JSON has no inf or nan.
inline std::string json_number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : "null"; }

// The JSON line of one side-by-side row (bench/side_by_side.py reads it); a number that
// is not finite, such as the GFLOP/s of a side that does not count FLOPs, is null.
inline std::string json_row(const RunConfig& c, double median_s, int timed_iters, double peak_rss_mb,
                            double gflops) {
  return fmt::format(
      R"({{"workload":"{}","algo":"{}","steps":{},"threads":{},"its_per_s":{},"median_s":{},)"
      R"("timed_iters":{},"peak_rss_mb":{},"gflops":{}}})",
      c.workload, c.algo, c.steps, c.threads, json_number(1.0 / median_s), json_number(median_s), timed_iters,
      json_number(peak_rss_mb), json_number(gflops));
}

// Runs step(it) for it = 0 .. warmup + iters - 1 and returns the seconds of the timed
// ones (those from `warmup` on); on_timed() runs once just before the first timed
// step. Steps of a second or more get a progress line on stderr. Timing stops once the
// timed steps took max_seconds in all (0: no limit; at least one is timed).
template <class Step, class OnTimed>
std::vector<double> time_iterations(std::string_view program, int warmup, int iters, double max_seconds, Step&& step,
                                    OnTimed&& on_timed) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> seconds;
  double total = 0.0;
  for (int it = 0; it < warmup + iters; ++it) {
    if (it == warmup) on_timed();
    const auto start = Clock::now();
    step(it);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    const bool timed = it >= warmup;
    if (s >= 1.0) fmt::print(stderr, "{}: {} {}: {:.2f} s\n", program, timed ? "iteration" : "warm-up", it, s);
    if (!timed) continue;
    seconds.push_back(s);
    total += s;
    if (max_seconds > 0.0 && total >= max_seconds) break;
  }
  return seconds;
}

}  // namespace mg::bench
