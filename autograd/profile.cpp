#include "autograd/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "autograd/errors.h"
#include "autograd/tape.h"

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

namespace {

// The table's column order: the inner gradient's recording before the outer sweeps.
constexpr std::array<ProfilePhase, kProfilePhases> kColumns = {ProfilePhase::Forward, ProfilePhase::RecordedBackward,
                                                               ProfilePhase::Backward, ProfilePhase::DoubleBackward};
constexpr const char* kPhaseNames[] = {"forward", "backward", "recorded backward", "double backward"};

const char* phase_name(ProfilePhase p) { return kPhaseNames[static_cast<std::size_t>(p)]; }

}  // namespace

std::int64_t detail::current_tape_saved_bytes() { return Tape::current().saved_bytes(); }

std::string OpProfile::table() const {
  const double wall = std::max(wall_seconds, 1e-12);
  auto cell = [wall](double s) { return fmt::format("{:.3f} s ({:.1f} %)", s, 100.0 * s / wall); };
  auto total = [this](std::size_t i, auto field) {
    double t = 0;
    for (const OpTiming& o : ops[i]) t += static_cast<double>(field(o));
    return t;
  };
  auto seconds = [](const OpTiming& o) { return o.seconds; };
  auto calls = [](const OpTiming& o) { return o.calls; };
  auto bytes = [](const OpTiming& o) { return o.bytes; };
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (total(i, calls) > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return total(a, seconds) > total(b, seconds); });
  std::string head, rule;
  for (const ProfilePhase p : kColumns) {
    head += fmt::format(" {} |", phase_name(p));
    rule += " --- |";
  }
  std::string out = fmt::format("wall {:.3f} s; time inside ops by phase (share of wall)\n\n", wall_seconds);
  out += fmt::format("| op |{} calls | GB of results |\n| --- |{} --- | --- |\n", head, rule);
  for (const std::size_t i : order) {
    out += fmt::format("| {} |", kPrimitiveOpNames[i]);
    for (const ProfilePhase p : kColumns)
      out += fmt::format(" {} |", cell(ops[i][static_cast<std::size_t>(p)].seconds));
    out += fmt::format(" {} | {:.2f} |\n", total(i, calls), total(i, bytes) / 1e9);
  }
  double in_ops = 0;
  out += "| **all ops** |";
  for (const ProfilePhase p : kColumns) {
    out += fmt::format(" {} |", cell(phase_seconds(p)));
    in_ops += phase_seconds(p);
  }
  out += " | |\n";
  out += fmt::format("| outside ops | {} |", cell(wall_seconds - in_ops));
  for (std::size_t c = 0; c < kProfilePhases + 1; ++c) out += " |";  // the other phases, calls, GB
  out += "\n";
  // The same ops by calls and results (MB, views included) per phase.
  out += fmt::format("\ncalls and MB of results by phase\n\n| op |");
  for (const ProfilePhase p : kColumns) out += fmt::format(" {} calls | MB |", phase_name(p));
  out += "\n| --- |";
  for (std::size_t p = 0; p < kProfilePhases; ++p) out += " --- | --- |";
  out += "\n";
  for (const std::size_t i : order) {
    out += fmt::format("| {} |", kPrimitiveOpNames[i]);
    for (const ProfilePhase p : kColumns) {
      const OpTiming& o = ops[i][static_cast<std::size_t>(p)];
      out += fmt::format(" {} | {:.1f} |", o.calls, static_cast<double>(o.bytes) / (1 << 20));
    }
    out += "\n";
  }
  auto op_label = [](int op) {
    return op < 0 ? std::string("outside ops") : std::string(kPrimitiveOpNames[static_cast<std::size_t>(op)]);
  };
  const double mb = 1 << 20;
  out += fmt::format("\npeak live tensor memory {:.1f} MB, reached during {} ({}); of it saved for backward on the "
                     "tape then: {:.1f} MB; alive then, by the op that made it:\n\n",
                     static_cast<double>(peak_live_bytes) / mb, op_label(peak_op),
                     kPhaseNames[static_cast<std::size_t>(peak_phase)], static_cast<double>(peak_saved_bytes) / mb);
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
