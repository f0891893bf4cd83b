#include "tools/progress.h"

#include <fmt/format.h>

namespace mg::tools {

Progress::Progress(std::int64_t first, std::int64_t total, std::string metric_name, int log_every, std::FILE* out,
                   bool terminal)
    : first_(first),
      total_(total),
      metric_name_(std::move(metric_name)),
      log_every_(log_every),
      out_(out),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string Progress::line(std::int64_t done) const {
  const double t = elapsed_seconds();
  const double rate = t > 0 ? static_cast<double>(done - first_) / t : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  return fmt::format("{:>7}/{}  {:.1f} it/s  ETA {}  loss {:.4f}  {} {:.4f}", done, total_, rate,
                     format_duration(eta), loss_, metric_name_, metric_);
}

void Progress::update(std::int64_t it, double loss, double metric) {
  loss_ = loss;
  metric_ = metric;
  const std::int64_t done = it + 1;
  if (terminal_) {
    const auto now = std::chrono::steady_clock::now();
    if (done != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const auto filled = static_cast<int>(kWidth * done / std::max<std::int64_t>(total_, 1));
    fmt::print(out_, "\r[{}{}] {}\x1b[K", std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(kWidth - filled), '.'), line(done));
  } else if (done % log_every_ == 0 || done == total_) {
    fmt::print(out_, "iteration {}\n", line(done));
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (terminal_) fmt::print(out_, "\n");
  std::fflush(out_);
}

}  // namespace mg::tools
