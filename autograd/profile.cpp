#include "autograd/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "autograd/errors.h"

namespace mg {

double OpProfile::phase_seconds(ProfilePhase phase) const {
  double s = 0.0;
  for (const auto& op : ops) s += op[static_cast<std::size_t>(phase)].seconds;
  return s;
}

double OpProfile::total_op_seconds() const {
  double s = 0.0;
  for (std::size_t p = 0; p < kProfilePhases; ++p) s += phase_seconds(static_cast<ProfilePhase>(p));
  return s;
}

std::string OpProfile::table() const {
  const double wall = std::max(wall_seconds, 1e-12);
  auto cell = [wall](double s) { return fmt::format("{:.3f} s ({:.1f} %)", s, 100.0 * s / wall); };
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i][0].calls + ops[i][1].calls + ops[i][2].calls > 0) order.push_back(i);
  auto total = [this](std::size_t i) { return ops[i][0].seconds + ops[i][1].seconds + ops[i][2].seconds; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return total(a) > total(b); });
  std::string out = fmt::format("wall {:.3f} s; time inside ops by phase (share of wall)\n\n", wall_seconds);
  out += "| op | forward | backward | recorded backward | calls | GB of results |\n";
  out += "| --- | --- | --- | --- | --- | --- |\n";
  for (const std::size_t i : order) {
    const auto& o = ops[i];
    out += fmt::format("| {} | {} | {} | {} | {} | {:.2f} |\n", kPrimitiveOpNames[i], cell(o[0].seconds),
                       cell(o[1].seconds), cell(o[2].seconds), o[0].calls + o[1].calls + o[2].calls,
                       static_cast<double>(o[0].bytes + o[1].bytes + o[2].bytes) / 1e9);
  }
  const double fwd = phase_seconds(ProfilePhase::Forward), bwd = phase_seconds(ProfilePhase::Backward),
               rec = phase_seconds(ProfilePhase::RecordedBackward);
  out += fmt::format("| **all ops** | {} | {} | {} | | |\n", cell(fwd), cell(bwd), cell(rec));
  out += fmt::format("| outside ops | {} | | | | |\n", cell(wall_seconds - fwd - bwd - rec));
  static constexpr const char* kPhaseNames[] = {"forward", "backward", "recorded backward"};
  auto op_label = [](int op) {
    return op < 0 ? std::string("outside ops") : std::string(kPrimitiveOpNames[static_cast<std::size_t>(op)]);
  };
  const double mb = 1 << 20;
  out += fmt::format("\npeak live tensor memory {:.1f} MB, reached during {} ({}); alive then, by the op that made it:\n\n",
                     static_cast<double>(peak_live_bytes) / mb, op_label(peak_op),
                     kPhaseNames[static_cast<std::size_t>(peak_phase)]);
  out += "| made by | phase | MB |\n| --- | --- | --- |\n";
  std::vector<std::pair<std::int64_t, std::size_t>> rows;  // bytes, row * phases + phase
  std::int64_t counted = 0;
  for (std::size_t r = 0; r < peak_census.size(); ++r)
    for (std::size_t ph = 0; ph < kProfilePhases; ++ph)
      if (peak_census[r][ph] > 0) {
        rows.emplace_back(peak_census[r][ph], r * kProfilePhases + ph);
        counted += peak_census[r][ph];
      }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::int64_t small = 0;  // rows under 0.05 MB, summed into one
  for (const auto& [bytes, at] : rows) {
    if (bytes < (1 << 20) / 20) {
      small += bytes;
      continue;
    }
    out += fmt::format("| {} | {} | {:.1f} |\n", op_label(static_cast<int>(at / kProfilePhases) - 1),
                       kPhaseNames[at % kProfilePhases], static_cast<double>(bytes) / mb);
  }
  if (small > 0) out += fmt::format("| every other op | | {:.1f} |\n", static_cast<double>(small) / mb);
  out += fmt::format("| made before the profiler started | | {:.1f} |\n",
                     static_cast<double>(peak_live_bytes - counted) / mb);
  return out;
}

OpProfiler::OpProfiler() : start_(std::chrono::steady_clock::now()) {
  if (detail::t_profile) throw ValueError("OpProfiler: a profiler is already collecting on this thread");
  detail::t_profile = &data_;
}

OpProfiler::~OpProfiler() { detail::t_profile = nullptr; }

OpProfile OpProfiler::report() const {
  OpProfile r = data_;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return r;
}

}  // namespace mg
