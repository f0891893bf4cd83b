// Progress of a long run: on a terminal, one line redrawn in place
//   [#########.........]  4200/8000  143.2 it/s  ETA 0:26  loss 0.512  mse 0.498
// at most ten times a second; when output is not a terminal (a log file, CI),
// a plain line every `log_every` iterations instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace mg::tools {

class Progress {
 public:
  // Iterations first … total − 1 are to run; `out` is written to (stdout in the tool).
  Progress(std::int64_t first, std::int64_t total, std::string metric_name, int log_every, std::FILE* out,
           bool terminal);
  // Iteration `it` finished with these running values.
  void update(std::int64_t it, double loss, double metric);
  // Ends the line on a terminal.
  void finish();
  double elapsed_seconds() const;

  // "1:02:03" or "2:03".
  static std::string format_duration(double seconds);

 private:
  std::string line(std::int64_t done) const;
  std::int64_t first_, total_;
  std::string metric_name_;
  int log_every_;
  std::FILE* out_;
  bool terminal_;
  double loss_ = 0, metric_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace mg::tools
