// Per-op timing from the tape: where a step's time goes, by op and by phase.
//
//   mg::OpProfiler prof;                 // collects on this thread while alive
//   run_one_meta_step();
//   std::cout << prof.report().table();  // ops by time, forward / backward / recorded backward
//
// Every op runs through apply<Op> (autograd/apply.h), so timing that one function
// times every kernel the library runs, in the forward pass and inside the backward
// formulas alike. The phase says which sweep the op ran in:
//   forward            outside any grad()
//   backward           in a grad() sweep without create_graph (nothing recorded), running
//                      the formula of a node recorded in the forward pass
//   double backward    the same sweep running the formula of a node that was recorded in a
//                      create_graph sweep: second-order MAML's outer backward through the
//                      inner gradient (its Hessian-vector products); first-order MAML has none
//   recorded backward  in a grad(create_graph = true) sweep: MAML's inner gradient,
//                      whose ops become nodes that the outer backward differentiates
// An op is counted under its own name (a mul's formula runs muls) in the phase above.
// The cost when no profiler is alive is one thread-local load per op.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "autograd/op_list.h"

namespace mg {

enum class ProfilePhase : std::uint8_t { Forward, Backward, RecordedBackward, DoubleBackward };
inline constexpr std::size_t kProfilePhases = 4;  // profile_origin packs a phase in 2 bits
inline constexpr std::size_t kProfileOps = kPrimitiveOpNames.size();

struct OpTiming {
  std::int64_t calls = 0;
  double seconds = 0.0;
  std::int64_t bytes = 0;  // of the results
};

// What an OpProfiler collected.
struct OpProfile {
  std::array<std::array<OpTiming, kProfilePhases>, kProfileOps> ops{};
  double wall_seconds = 0.0;  // the profiler's lifetime (up to report())
  // Memory: the most bytes of live storages (Storage::live_bytes(), every thread's)
  // seen at any allocation while profiling, and the op running then (-1: outside any
  // op). Transients an op makes and frees inside its forward count: this is the
  // high-water mark of tensor memory, what peak RSS is made of beside the code, the
  // data and the pools' slack.
  std::int64_t peak_live_bytes = 0;
  int peak_op = -1;
  ProfilePhase peak_phase = ProfilePhase::Forward;
  // What was alive at that peak, by the op (row 0: outside any op; row 1 + id: op id)
  // and phase that made it. Storages made before the profiler started are in the peak
  // but in no row (peak_before_bytes).
  using Census = std::array<std::array<std::int64_t, kProfilePhases>, kProfileOps + 1>;
  Census peak_census{};
  std::int64_t peak_before_bytes = 0;
  Census live_census{};  // the same now (while collecting)
  // Of the peak: the bytes of the tensors the profiling thread's tape kept for backward
  // then (Tape::saved_bytes; a storage saved by two nodes counts twice): the activations,
  // and with create_graph the inner gradient's intermediates.
  std::int64_t peak_saved_bytes = 0;

  const OpTiming& at(OpId op, ProfilePhase phase) const {
    return ops[static_cast<std::size_t>(op)][static_cast<std::size_t>(phase)];
  }
  double phase_seconds(ProfilePhase phase) const;
  double total_op_seconds() const;
  // A Markdown table: one row per op with any time, sorted by total time; seconds and
  // share of the wall time per phase, calls, GB of results (views included); then totals per phase and the
  // time outside any op (tape bookkeeping, the optimizer's own loops, task drawing); then
  // calls and MB of results per phase; then the peak of memory and what was alive then.
  std::string table() const;
};

// Collects per-op timings on the calling thread from construction until destruction.
// Profilers do not nest (constructing a second one on a thread throws ValueError).
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;
  OpProfile report() const;

 private:
  OpProfile data_;
  std::chrono::steady_clock::time_point start_;
};

namespace detail {

inline thread_local OpProfile* t_profile = nullptr;
inline thread_local ProfilePhase t_profile_phase = ProfilePhase::Forward;
inline thread_local int t_profile_op = -1;  // the op apply<> is running, -1 outside ops

// Marks the op that runs while it is alive (for the peak's attribution).
class ProfileOpScope {
 public:
  explicit ProfileOpScope(OpId op) : saved_(std::exchange(t_profile_op, static_cast<int>(op))) {}
  ~ProfileOpScope() { t_profile_op = saved_; }
  ProfileOpScope(const ProfileOpScope&) = delete;
  ProfileOpScope& operator=(const ProfileOpScope&) = delete;

 private:
  int saved_;
};

// While a backward sweep runs the formula of a node that was itself recorded in a
// create_graph sweep: double backward (restored after). Only a sweep that records
// nothing changes phase, so that nodes recorded in create_graph sweeps stay marked (tape.cpp).
class ProfileDoubleBackward {
 public:
  explicit ProfileDoubleBackward(bool node_in_backward) : saved_(t_profile_phase) {
    if (node_in_backward && saved_ == ProfilePhase::Backward) t_profile_phase = ProfilePhase::DoubleBackward;
  }
  ~ProfileDoubleBackward() { t_profile_phase = saved_; }
  ProfileDoubleBackward(const ProfileDoubleBackward&) = delete;
  ProfileDoubleBackward& operator=(const ProfileDoubleBackward&) = delete;

 private:
  ProfilePhase saved_;
};

// The bytes this thread's tape keeps for backward now (Tape::saved_bytes).
std::int64_t current_tape_saved_bytes();

// Sets the phase for a grad() sweep (and restores the previous one).
class ProfileSweep {
 public:
  explicit ProfileSweep(bool create_graph)
      : saved_(std::exchange(t_profile_phase,
                             create_graph ? ProfilePhase::RecordedBackward : ProfilePhase::Backward)) {}
  ~ProfileSweep() { t_profile_phase = saved_; }
  ProfileSweep(const ProfileSweep&) = delete;
  ProfileSweep& operator=(const ProfileSweep&) = delete;

 private:
  ProfilePhase saved_;
};

inline void profile_add(OpId op, std::chrono::steady_clock::time_point start, std::int64_t bytes) {
  OpTiming& t = t_profile->ops[static_cast<std::size_t>(op)][static_cast<std::size_t>(t_profile_phase)];
  ++t.calls;
  t.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.bytes += bytes;
}

// The census row and phase of a storage made now, packed for Storage (never 0).
inline std::uint16_t profile_origin() {
  return static_cast<std::uint16_t>(((t_profile_op + 1) << 2 | static_cast<int>(t_profile_phase)) + 1);
}

// Storage::make, while a profiler is alive: a storage of `bytes` made now, with the
// live bytes of the process after it. Returns its origin (for profile_note_free).
inline std::uint16_t profile_note_alloc(std::int64_t bytes, std::int64_t live) {
  const std::uint16_t origin = profile_origin();
  OpProfile& p = *t_profile;
  const int code = origin - 1;
  p.live_census[static_cast<std::size_t>(code >> 2)][static_cast<std::size_t>(code & 3)] += bytes;
  if (live > p.peak_live_bytes) {
    p.peak_live_bytes = live;
    p.peak_op = t_profile_op;
    p.peak_phase = t_profile_phase;
    p.peak_census = p.live_census;
    p.peak_saved_bytes = current_tape_saved_bytes();
  }
  return origin;
}

// Storage::destroy of a storage made while this thread's profiler was alive.
inline void profile_note_free(std::uint16_t origin, std::int64_t bytes) {
  const int code = origin - 1;
  t_profile->live_census[static_cast<std::size_t>(code >> 2)][static_cast<std::size_t>(code & 3)] -= bytes;
}

}  // namespace detail
}  // namespace mg
