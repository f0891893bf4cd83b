// metrics.csv: one row per meta-iteration (iteration, loss, metric).
//
// The rows are kept in memory and the file is rewritten atomically
// (tools/atomic_file.h) by save(), which the training loop calls just before
// each checkpoint: the file on disk is always whole, and holds exactly the
// rows before the checkpoint's iteration (or, after a crash between the two
// writes, a few more). On --resume, resume() reads the file back and checks
// that it agrees with the checkpoint: rows 0, 1, ... in order, none missing
// before the checkpoint's iteration; rows at or past it (written after the
// checkpoint) are dropped, so the file matches an uninterrupted run.
// Cost: each save writes the whole file (about 30 bytes a row), so a run with
// --checkpoint-every 1 writes O(iterations²) bytes; at the default 1000 it is noise.
// A crash loses the rows since the last checkpoint, which --resume redoes anyway.
//
// With `order_columns` (metalearn train --diagnose-order N, meta/order_diagnostic.h) the
// header gains order_cosine,hessian_share: filled on the diagnosed rows, empty on the others.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mg::tools {

struct MetricsRow {
  std::int64_t iteration = 0;
  double loss = 0.0, metric = 0.0;
  // The first- against second-order comparison of this iteration's batch, when diagnosed.
  std::optional<double> order_cosine = std::nullopt, hessian_share = std::nullopt;
};

class MetricsLog {
 public:
  // An empty log for a new run; nothing is written until save().
  MetricsLog(std::string path, std::string metric_name, bool order_columns = false);

  // The log of a run resumed at `step` (the checkpoint's iteration): the rows
  // 0 .. step-1 of `path`. DataError naming the file and line when the file is
  // missing (step > 0), has another header, a malformed or out-of-order row, or
  // ends before iteration step-1.
  static MetricsLog resume(std::string path, std::string metric_name, std::int64_t step, bool order_columns = false);

  void append(const MetricsRow& row) { rows_.push_back(row); }
  // Writes every row atomically; DataError when the write fails.
  void save() const;
  // Every row, in order (for the learning-curve plot).
  const std::vector<MetricsRow>& rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, metric_name_;
  bool order_columns_ = false;
  std::vector<MetricsRow> rows_;
};

}  // namespace mg::tools
