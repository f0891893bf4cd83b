// Anomaly mode (autograd/anomaly.h): the first op that makes a NaN or an infinity,
// forward or backward, at any order, is named with its tape position and shapes.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

using namespace mg;

// Named, not anonymous: the unity build puts several test files in one unit.
namespace anomaly_test {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
Tensor vec(const std::vector<double>& v) { return from_vector(v, {static_cast<std::int64_t>(v.size())}); }
}  // namespace anomaly_test

TEST_SUITE("anomaly") {
  using namespace anomaly_test;

  TEST_CASE("all_finite and non_finite_kind") {
    CHECK(all_finite(vec({1.0, -2.0, 0.0})));
    CHECK(all_finite(zeros({0})));
    CHECK(all_finite(arange(5, DType::I64)));
    CHECK_FALSE(all_finite(vec({1.0, kNaN})));
    CHECK_FALSE(all_finite(vec({kInf}).to(DType::F32)));
    CHECK(std::string(non_finite_kind(vec({1.0, 2.0}))).empty());
    CHECK(std::string(non_finite_kind(vec({1.0, kNaN, kInf}))) == "nan");
    CHECK(std::string(non_finite_kind(vec({1.0, kInf, kNaN}).to(DType::F32))) == "inf");
    CHECK(std::string(non_finite_kind(vec({-kInf}))) == "-inf");
    // Past the first block of the scan, and the largest finite values.
    std::vector<double> big(5000, std::numeric_limits<double>::max());
    CHECK(all_finite(vec(big)));
    big[4321] = -kInf;
    CHECK(std::string(non_finite_kind(vec(big))) == "-inf");
    CHECK_FALSE(all_finite(vec(big).to(DType::F32)));  // max double overflows to inf in f32
  }

  TEST_CASE("off by default: NaN passes silently; the guard turns it on for its scope and nests") {
    CHECK_FALSE(anomaly_enabled());
    CHECK(std::isnan(log(vec({-1.0})).item()));
    {
      const DetectAnomaly on;
      CHECK(anomaly_enabled());
      {
        const DetectAnomaly off(false);
        CHECK_FALSE(anomaly_enabled());
        CHECK(std::isnan(log(vec({-1.0})).item()));
      }
      CHECK(anomaly_enabled());
    }
    CHECK_FALSE(anomaly_enabled());
  }

  TEST_CASE("forward: the op that makes a NaN is named with its tape position and shapes") {
    TapeScope scope;
    Tensor w = vec({1.0, -1.0, 2.0}).requires_grad_();
    const Tensor y = w * 2.0;  // binds w, then records mul_scalar
    const DetectAnomaly anomaly;
    const std::int32_t position = Tape::current().size();
    CHECK_THROWS_WITH_AS(log(y),
                         fmt::format("anomaly: log produced nan in forward at tape position %{}: a is [3], "
                                     "result is [3]",
                                     position)
                             .c_str(),
                         AnomalyError);
    // Two operands, not recorded (no input requires grad).
    CHECK_THROWS_WITH_AS(vec({0.0, 1.0}) / vec({0.0, 1.0}),
                         "anomaly: div produced nan in forward (not recorded on the tape): a is [2], b is [2], "
                         "result is [2]",
                         AnomalyError);
    CHECK_THROWS_WITH_AS(exp(vec({1000.0})), doctest::Contains("anomaly: exp produced inf in forward"), AnomalyError);
    // An AnomalyError is a NonFiniteError is an Error.
    CHECK_THROWS_AS(sqrt(vec({-4.0})), NonFiniteError);
  }

  TEST_CASE("forward: an op passing on a non-finite operand is not the producer") {
    const DetectAnomaly anomaly;
    const Tensor data = vec({kNaN, 1.0});
    CHECK(std::isnan(relu(data).at({0})));
    CHECK(std::isnan(sum(data * 2.0).item()));
    const Tensor masked = vec({-kInf, 0.0});  // a -inf mask
    CHECK(softmax(masked, 0).at({1}) == 1.0);
  }

  TEST_CASE("backward: an infinite gradient (sqrt at 0) names the node, its formula's op and the shapes") {
    TapeScope scope;
    Tensor w = vec({0.0, 1.0, 4.0}).requires_grad_();
    const Tensor r = sqrt(w);
    const Tensor y = sum(r);
    // Without the guard the gradient is silently infinite.
    CHECK(std::isinf(grad(y, w).at({0})));
    const DetectAnomaly anomaly;
    CHECK_THROWS_WITH_AS(grad(y, w),
                         fmt::format("anomaly: sqrt produced inf in backward at tape position %{} (its formula's div): "
                                     "a is [3], result is [3], grad is [3]",
                                     r.node())
                             .c_str(),
                         AnomalyError);
    // The same through backward() and with create_graph.
    CHECK_THROWS_WITH_AS(backward(y), doctest::Contains("anomaly: sqrt produced inf in backward"), AnomalyError);
    CHECK_THROWS_WITH_AS(grad({y}, {w}, {.create_graph = true}),
                         doctest::Contains("anomaly: sqrt produced inf in backward"), AnomalyError);
  }

  TEST_CASE("second order: a finite first derivative whose own derivative overflows") {
    // d/dx log x = 1/x is 1e200 at x = 1e-200; d²/dx² = -1/x² overflows to -inf.
    TapeScope scope;
    Tensor x = scalar(1e-200, DType::F64).requires_grad_();
    const DetectAnomaly anomaly;
    const Tensor g = grad({log(x)}, {x}, {.create_graph = true})[0];
    CHECK(g.item() == doctest::Approx(1e200));
    CHECK_THROWS_WITH_AS(grad(g, x),
                         fmt::format("anomaly: div produced -inf in backward at tape position %{} (its formula's div): "
                                     "a is [], b is [], result is [], grad is []",
                                     g.node())
                             .c_str(),
                         AnomalyError);
  }

  TEST_CASE("the mode is per thread, and parallel_for carries it to its workers") {
    const DetectAnomaly anomaly;
    bool other_thread = true;
    std::thread t([&] { other_thread = anomaly_enabled(); });
    t.join();
    CHECK_FALSE(other_thread);
    std::vector<char> seen(8, 0);
    parallel_for(seen.size(), 4, [&](std::size_t i, int) { seen[i] = anomaly_enabled() ? 1 : 0; });
    CHECK(seen == std::vector<char>(8, 1));
    CHECK_THROWS_WITH_AS(parallel_for(4, 2, [](std::size_t i, int) { (void)log(vec({i == 3 ? -1.0 : 1.0})); }),
                         doctest::Contains("anomaly: log produced nan in forward"), AnomalyError);
    {
      const DetectAnomaly off(false);
      parallel_for(seen.size(), 4, [&](std::size_t i, int) { seen[i] = anomaly_enabled() ? 1 : 0; });
      CHECK(seen == std::vector<char>(8, 0));
    }
  }
}
