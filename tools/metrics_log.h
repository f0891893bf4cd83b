// metrics.csv: one row per meta-iteration, flushed as it is written, so a
// crashed run keeps its history. On --resume the rows past the checkpoint's
// iteration (written after the last checkpoint) are dropped first, so the
// file matches an uninterrupted run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mg::tools {

struct MetricsRow {
  std::int64_t iteration = 0;
  double loss = 0.0, metric = 0.0;
};

class MetricsLog {
 public:
  // Opens `path`; keeps the rows with iteration < keep_below (all others are dropped).
  MetricsLog(const std::string& path, const std::string& metric_name, std::int64_t keep_below);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void append(const MetricsRow& row);
  // Every row in the file, in order (for the learning-curve plot).
  const std::vector<MetricsRow>& rows() const { return rows_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<MetricsRow> rows_;
};

}  // namespace mg::tools
