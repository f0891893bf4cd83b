// OpProfiler (autograd/profile.h): per-op counts and times by phase.
#include <doctest/doctest.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

using namespace mg;

namespace profile_test {

// y = x·w and the gradient of Σy² with respect to w; with `second_order` that gradient g is
// recorded (create_graph, as MAML's inner gradient) and Σg² differentiated again.
OpProfile matmul_profile(bool second_order) {
  TapeScope scope;
  Tensor w = ones({3, 3}).requires_grad_();
  const Tensor x = ones({2, 3});
  OpProfiler prof;
  const Tensor y = matmul(x, w);
  // Its gradient (mul's and matmul's backward: dW = xᵀ g), recorded when second order.
  const Tensor g = grad(sum(y * y), w, {.create_graph = second_order});
  if (second_order) (void)grad(sum(g * g), w);
  return prof.report();
}

}  // namespace profile_test

TEST_SUITE("profile") {
  TEST_CASE("ops are counted in the phase they ran in") {
    const OpProfile r = profile_test::matmul_profile(true);
    CHECK(r.at(OpId::Matmul, ProfilePhase::Forward).calls == 1);
    CHECK(r.at(OpId::Matmul, ProfilePhase::RecordedBackward).calls >= 1);
    CHECK(r.at(OpId::Mul, ProfilePhase::Forward).calls == 2);  // y * y and g * g
    CHECK(r.at(OpId::Mul, ProfilePhase::Backward).calls >= 1);
    // The second sweep runs the formulas of the recorded gradient's nodes: double backward.
    CHECK(r.at(OpId::Matmul, ProfilePhase::DoubleBackward).calls >= 1);
    CHECK(r.at(OpId::Matmul, ProfilePhase::Forward).bytes == 2 * 3 * 4);
    CHECK(r.at(OpId::Matmul, ProfilePhase::Forward).seconds >= 0.0);
    CHECK(r.total_op_seconds() <= r.wall_seconds);
    CHECK(r.phase_seconds(ProfilePhase::Forward) <= r.total_op_seconds());
    const std::string t = r.table();
    CHECK(t.find("| matmul |") != std::string::npos);
    CHECK(t.find("| outside ops |") != std::string::npos);
    CHECK(t.find("| relu |") == std::string::npos);  // ops that did not run get no row
    CHECK(t.find("| op | forward | recorded backward | backward | double backward | calls | GB of results |") !=
          std::string::npos);
    CHECK(t.find("| op | forward calls | MB | recorded backward calls | MB | backward calls | MB | double backward "
                 "calls | MB |") != std::string::npos);
  }

  TEST_CASE("a sweep through nodes recorded without create_graph has no double backward") {
    const OpProfile r = profile_test::matmul_profile(false);
    CHECK(r.at(OpId::Matmul, ProfilePhase::Backward).calls >= 1);
    CHECK(r.phase_seconds(ProfilePhase::DoubleBackward) == 0.0);
    for (std::size_t op = 0; op < kProfileOps; ++op)
      CHECK(r.ops[op][static_cast<std::size_t>(ProfilePhase::DoubleBackward)].calls == 0);
  }

  TEST_CASE("the peak records the bytes the tape saved for backward then") {
    constexpr std::int64_t kMiB = 1 << 20, n = kMiB / 8;
    TapeScope scope;
    const Tensor w = ones({n}, DType::F64).requires_grad_();
    OpProfile r;
    const std::int64_t saved_before = Tape::current().saved_bytes();
    {
      OpProfiler prof;
      const Tensor b = exp(w);  // binds w as a leaf (the leaf node keeps it: 1 MiB) and saves its result: 1 MiB
      const Tensor c = mul_scalar(b, 2.0);  // the peak (saves nothing: the scale is an attribute)
      r = prof.report();
      CHECK(Tape::current().saved_bytes() == Tape::current().stats().saved_bytes);
    }
    CHECK(r.peak_op == static_cast<int>(OpId::MulScalar));
    CHECK(r.peak_saved_bytes - saved_before == 2 * kMiB);
    CHECK(r.table().find("of it saved for backward on the tape then: ") != std::string::npos);
    const std::int64_t outer = Tape::current().saved_bytes();
    {
      TapeScope inner;
      (void)exp(w);  // w is bound already: only the result is new
      CHECK(Tape::current().saved_bytes() == outer + kMiB);
    }
    CHECK(Tape::current().saved_bytes() == outer);  // a rewind gives the bytes back
  }

  TEST_CASE("nothing is collected without a live profiler, and profilers do not nest") {
    OpProfile r;
    {
      OpProfiler prof;
      CHECK_THROWS_WITH_AS(OpProfiler{}, "OpProfiler: a profiler is already collecting on this thread", ValueError);
      r = prof.report();
    }
    (void)add(ones({2}), ones({2}));
    CHECK(r.at(OpId::Add, ProfilePhase::Forward).calls == 0);
    OpProfiler again;  // the first one is gone: a new one may start
    (void)add(ones({2}), ones({2}));
    CHECK(again.report().at(OpId::Add, ProfilePhase::Forward).calls == 1);
  }

  TEST_CASE("the peak of live tensor memory, and what was alive then by the op that made it") {
    constexpr std::int64_t kMiB = 1 << 20, n = kMiB / 8;  // tensors of n doubles: 1 MiB each
    const Tensor before = ones({n}, DType::F64);        // made before the profiler
    OpProfile r;
    {
      OpProfiler prof;
      const Tensor a = ones({n}, DType::F64);  // outside any op
      Tensor b = exp(a);                       // exp, forward
      const Tensor tiny = exp(ones({4}, DType::F64));  // 32 bytes: not a row of its own
      {
        const Tensor c = mul_scalar(b, 2.0);  // mul_scalar, forward: the peak is reached here
        (void)c;
      }
      b = Tensor{};  // freed: in the census of the peak still, no longer live
      (void)tiny;
      r = prof.report();
    }
    CHECK(r.peak_live_bytes >= 4 * kMiB);
    CHECK(r.peak_op == static_cast<int>(OpId::MulScalar));
    CHECK(r.peak_phase == ProfilePhase::Forward);
    const auto row = [&](int op) { return r.peak_census[static_cast<std::size_t>(op + 1)][0]; };
    CHECK(row(-1) == kMiB);  // a (the ones under tiny were freed before the peak)
    CHECK(row(static_cast<int>(OpId::Exp)) == kMiB + 32);
    CHECK(row(static_cast<int>(OpId::MulScalar)) == kMiB);
    const std::string t = r.table();
    CHECK(t.find("peak live tensor memory") != std::string::npos);
    CHECK(t.find("reached during mul_scalar (forward)") != std::string::npos);
    CHECK(t.find("| exp | forward | 1.0 |") != std::string::npos);
    CHECK(t.find("| made before the profiler started | | 1.0 |") != std::string::npos);
    CHECK(t.find("| every other op |") == std::string::npos);  // the 32-byte rows ride in the 1 MiB ones
    (void)before;
  }
}
