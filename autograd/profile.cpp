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
