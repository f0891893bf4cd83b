// CPU dispatch (autograd/kernels/cpu.h): the path queries, the METAGRAD_CPU errors,
// and for every path this CPU runs, kernels bit-identical to the generic path on odd
// lengths, broadcast shapes and both dtypes (Note [CPU dispatch]).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/adam.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/im2col.h"
#include "autograd/kernels/reduce.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/random.h"
#include "tests/autograd/isa_guard.h"

namespace {

using mg::DType;
using mg::Shape;
using mg::Tensor;
using mg::kernels::Binary;
using mg::kernels::Isa;
using mg::kernels::Unary;
namespace k = mg::kernels;

using PathGuard = mg::test::IsaGuard;

// The path the process started on: METAGRAD_CPU's, else the CPU's best.
Isa startup_isa() {
  const char* env = std::getenv("METAGRAD_CPU");
  return env != nullptr && *env != '\0' ? k::parse_cpu_env(env) : k::cpu_isa();
}

// Values on a grid of quarters in [-4, 4], so that comparisons meet equal operands,
// with a few zeros (division by zero, sqrt and relu at 0).
Tensor grid_values(const Shape& shape, DType dtype, std::uint64_t seed) {
  mg::Generator gen(seed);
  Tensor u = mg::uniform(shape, -4.0, 4.0, gen, DType::F64);
  std::vector<double> v(static_cast<std::size_t>(u.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::round(u.data<double>()[i] * 4.0) / 4.0;
  const Tensor t = mg::from_vector(v, shape);
  return dtype == DType::F64 ? t : t.to(dtype);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// f() on the generic path and on `isa`: the same bits.
template <class F>
bool matches_generic(Isa isa, F f) {
  Tensor expected, got;
  {
    const PathGuard g(Isa::Generic);
    expected = f();
  }
  {
    const PathGuard g(isa);
    got = f();
  }
  return same_bits(expected, got);
}

constexpr std::int64_t kLengths[] = {1, 7, 15, 16, 17, 33, 1000 + 3};
constexpr DType kDtypes[] = {DType::F32, DType::F64};
constexpr Binary kBinaries[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Greater, Binary::Equal};

struct UnaryCase {
  Unary op;
  double p = 0.0, q = 0.0;
};
constexpr UnaryCase kUnaries[] = {
    {Unary::Neg},           {Unary::Exp},           {Unary::Log},
    {Unary::Sqrt},          {Unary::Abs},           {Unary::Tanh},
    {Unary::Sigmoid},       {Unary::Relu},          {Unary::Sign},
    {Unary::AddScalar, 0.3}, {Unary::MulScalar, -1.7}, {Unary::Pow, 2.0},
    {Unary::Pow, 3.0},      {Unary::LeakyRelu, 0.01}, {Unary::Clamp, -1.5, 2.25},
    {Unary::InsideMask, -1.0, 1.0},
};

// Input pairs of one length: same shapes, scalar on either side (0-d and [1]).
struct Pair {
  Shape a, b, out;
};
std::vector<Pair> pairs_of_length(std::int64_t n) {
  return {{{n}, {n}, {n}}, {{n}, {}, {n}}, {{}, {n}, {n}}, {{n}, {1}, {n}}, {{1}, {n}, {n}}};
}

// Broadcast shapes: per-channel [N, C, H, W] with [1, C, 1, 1], rows with a row
// vector, a column against a row, and a strided middle axis.
const std::vector<Pair> kBroadcasts = {
    {{2, 3, 5, 7}, {1, 3, 1, 1}, {2, 3, 5, 7}},  {{1, 3, 1, 1}, {2, 3, 5, 7}, {2, 3, 5, 7}},
    {{4, 17}, {1, 17}, {4, 17}},                 {{4, 1}, {1, 33}, {4, 33}},
    {{3, 1, 5}, {3, 4, 1}, {3, 4, 5}},           {{2, 16, 9, 9}, {1, 16, 1, 1}, {2, 16, 9, 9}},
};

}  // namespace

TEST_SUITE("cpu") {
  TEST_CASE("isa_name and isa_from_name name the three paths") {
    CHECK(k::isa_name(Isa::Generic) == "generic");
    CHECK(k::isa_name(Isa::Avx2) == "avx2");
    CHECK(k::isa_name(Isa::Avx512) == "avx512");
    for (const Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) CHECK(k::isa_from_name(k::isa_name(isa)) == isa);
    CHECK_FALSE(k::isa_from_name("AVX2").has_value());
    CHECK_FALSE(k::isa_from_name("").has_value());
  }

  TEST_CASE("supported_isas runs from generic up to cpu_isa") {
    const std::vector<Isa> paths = k::supported_isas();
    REQUIRE_FALSE(paths.empty());
    CHECK(paths.front() == Isa::Generic);
    CHECK(paths.back() == k::cpu_isa());
    for (std::size_t i = 0; i < paths.size(); ++i) CHECK(static_cast<std::size_t>(paths[i]) == i);
    MESSAGE("cpu_isa: " << std::string(k::isa_name(k::cpu_isa()))
                        << ", active: " << std::string(k::isa_name(k::active_isa())));
  }

  TEST_CASE("active_isa is METAGRAD_CPU's path, else the CPU's best") { CHECK(k::active_isa() == startup_isa()); }

  TEST_CASE("set_active_isa switches the path, and sgemm follows it") {
    for (const Isa isa : k::supported_isas()) {
      const PathGuard g(isa);
      CHECK(k::active_isa() == isa);
      CHECK(k::sgemm_supported() == (isa != Isa::Generic));
      CHECK(std::string(k::sgemm_backend()) == (isa == Isa::Generic ? "openblas" : k::isa_name(isa)));
    }
    CHECK(k::active_isa() == startup_isa());
  }

  TEST_CASE("parse_cpu_env accepts the paths the CPU runs") {
    CHECK(k::parse_cpu_env("generic", Isa::Generic) == Isa::Generic);
    CHECK(k::parse_cpu_env("avx2", Isa::Avx2) == Isa::Avx2);
    CHECK(k::parse_cpu_env("generic", Isa::Avx512) == Isa::Generic);
    CHECK(k::parse_cpu_env("avx512", Isa::Avx512) == Isa::Avx512);
    for (const Isa isa : k::supported_isas()) CHECK(k::parse_cpu_env(k::isa_name(isa)) == isa);
  }

  TEST_CASE("parse_cpu_env: unknown value") {
    CHECK_THROWS_WITH_AS(k::parse_cpu_env("avx3", Isa::Avx2),
                         "METAGRAD_CPU: unknown path: value is \"avx3\" (expected generic, avx2 or avx512); "
                         "this CPU supports generic, avx2",
                         mg::ValueError);
    CHECK_THROWS_WITH_AS(k::parse_cpu_env("AVX512"), doctest::Contains("unknown path: value is \"AVX512\""),
                         mg::ValueError);
  }

  TEST_CASE("parse_cpu_env: a path the CPU cannot run") {
    CHECK_THROWS_WITH_AS(k::parse_cpu_env("avx512", Isa::Avx2),
                         "METAGRAD_CPU: path not supported by this CPU: value is \"avx512\"; "
                         "this CPU supports generic, avx2",
                         mg::ValueError);
    CHECK_THROWS_WITH_AS(k::parse_cpu_env("avx2", Isa::Generic),
                         "METAGRAD_CPU: path not supported by this CPU: value is \"avx2\"; this CPU supports generic",
                         mg::ValueError);
  }

  TEST_CASE("set_active_isa: a path the CPU cannot run") {
    if (k::cpu_isa() == Isa::Avx512) return;  // every path runs here: nothing to refuse
    const Isa wider = static_cast<Isa>(static_cast<int>(k::cpu_isa()) + 1);
    const std::string message =
        fmt::format("set_active_isa: path not supported by this CPU: isa is {}; this CPU supports", k::isa_name(wider));
    CHECK_THROWS_WITH_AS(k::set_active_isa(wider), doctest::Contains(message.c_str()), mg::ValueError);
    CHECK(k::active_isa() == startup_isa());
  }

  TEST_CASE("binary: every path gives the generic path's bits") {
    for (const Isa isa : k::supported_isas())
      for (const DType dtype : kDtypes)
        for (const Binary op : kBinaries) {
          std::vector<Pair> cases = kBroadcasts;
          for (const std::int64_t n : kLengths)
            for (const Pair& p : pairs_of_length(n)) cases.push_back(p);
          for (const Pair& p : cases) {
            const Tensor a = grid_values(p.a, dtype, 1), b = grid_values(p.b, dtype, 2);
            CAPTURE(k::isa_name(isa));
            CAPTURE(static_cast<int>(op));
            CAPTURE(p.a);
            CAPTURE(p.b);
            CHECK(matches_generic(isa, [&] { return k::binary(op, a, b, p.out); }));
          }
        }
  }

  TEST_CASE("unary: every path gives the generic path's bits") {
    for (const Isa isa : k::supported_isas())
      for (const DType dtype : kDtypes)
        for (const UnaryCase& u : kUnaries)
          for (const std::int64_t n : kLengths) {
            const Tensor x = grid_values({n}, dtype, 3);
            CAPTURE(k::isa_name(isa));
            CAPTURE(static_cast<int>(u.op));
            CAPTURE(n);
            CHECK(matches_generic(isa, [&] { return k::unary(u.op, x, u.p, u.q); }));
          }
  }

  TEST_CASE("where: every path gives the generic path's bits") {
    for (const Isa isa : k::supported_isas())
      for (const DType dtype : kDtypes) {
        std::vector<std::vector<Shape>> cases;  // cond, a, b, out
        for (const std::int64_t n : kLengths) {
          cases.push_back({{n}, {n}, {n}, {n}});
          cases.push_back({{n}, {n}, {}, {n}});
          cases.push_back({{n}, {}, {n}, {n}});
          cases.push_back({{}, {n}, {n}, {n}});
        }
        cases.push_back({{2, 3, 5, 7}, {2, 3, 5, 7}, {1, 3, 1, 1}, {2, 3, 5, 7}});
        cases.push_back({{1, 3, 1, 1}, {2, 3, 5, 7}, {2, 3, 5, 7}, {2, 3, 5, 7}});
        for (const auto& s : cases) {
          const Tensor cond = k::binary(Binary::Greater, grid_values(s[0], dtype, 4), mg::scalar(0.0, dtype), s[0]);
          const Tensor a = grid_values(s[1], dtype, 5), b = grid_values(s[2], dtype, 6);
          CAPTURE(k::isa_name(isa));
          CAPTURE(s[0]);
          CAPTURE(s[1]);
          CAPTURE(s[2]);
          CHECK(matches_generic(isa, [&] { return k::where(cond, a, b, s[3]); }));
        }
      }
  }

  TEST_CASE("sum: every path gives the generic path's bits, accumulated in double") {
    using Mask = k::AxisMask;
    struct SumCase {
      Shape in;
      Mask mask;
      Shape out;
    };
    std::vector<SumCase> cases;
    for (const std::int64_t n : kLengths) {
      cases.push_back({{n}, Mask("1"), {}});                // one run into one output
      cases.push_back({{3, n}, Mask("10"), {3}});           // along the last axis
      cases.push_back({{n, 3}, Mask("01"), {3}});           // along a leading axis
    }
    cases.push_back({{2, 3, 5, 7}, Mask("1101"), {3}});     // per channel, as batch-norm
    cases.push_back({{2, 3, 5, 7}, Mask("1111"), {}});
    cases.push_back({{4, 16, 9, 9}, Mask("1000"), {4, 16, 9}});
    cases.push_back({{4, 16, 9, 9}, Mask("0001"), {16, 9, 9}});
    for (const Isa isa : k::supported_isas())
      for (const DType dtype : kDtypes)
        for (const SumCase& c : cases) {
          // Random floats (not a grid): every rounding of the double sum shows.
          mg::Generator gen(7);
          const Tensor x = mg::randn(c.in, gen, dtype);
          CAPTURE(k::isa_name(isa));
          CAPTURE(c.in);
          CAPTURE(c.mask.to_string());
          CHECK(matches_generic(isa, [&] { return k::sum(x, c.mask, c.out); }));
        }
  }

  TEST_CASE("sum of float32 accumulates in double on every path") {
    // 2^24 + 1 + 1 + ...: float32 accumulation would stay at 2^24.
    std::vector<float> v(1003, 1.0f);
    v[0] = 16777216.0f;
    const Tensor x = mg::from_vector(v, {1003});
    for (const Isa isa : k::supported_isas()) {
      const PathGuard g(isa);
      CHECK(k::sum(x, k::AxisMask("1"), {}).item() == doctest::Approx(16777216.0 + 1002.0));
    }
  }

  TEST_CASE("im2col and col2im: every path gives the generic path's bits") {
    // 3×3 "same" stride 1 (the shift path on avx512) and stride 2 (the table path).
    for (const int stride : {1, 2})
      for (const mg::ColLayout layout : {mg::ColLayout::Folded, mg::ColLayout::PerImage}) {
        k::ConvGeometry g;
        g.n = 2, g.c = 3, g.h = 9, g.w = 11, g.kh = 3, g.kw = 3, g.sh = stride, g.sw = stride, g.ph = 1, g.pw = 1;
        g.layout = layout;
        mg::Generator gen(8);
        const Tensor x = mg::randn(g.image_shape(), gen);
        const Tensor cols = mg::randn(g.cols_shape(), gen);
        for (const Isa isa : k::supported_isas()) {
          CAPTURE(k::isa_name(isa));
          CAPTURE(stride);
          CHECK(matches_generic(isa, [&] { return k::im2col(x, g); }));
          CHECK(matches_generic(isa, [&] { return k::col2im(cols, g); }));
        }
      }
  }

  TEST_CASE("adam_update: every path gives adam_update_scalar's bits, float32 and float64, both weight decays") {
    k::AdamStep step;
    step.c1 = 1.0 - std::pow(step.beta1, 3.0);
    step.c2 = 1.0 - std::pow(step.beta2, 3.0);
    for (const DType dtype : kDtypes)
      for (const bool decoupled : {false, true})
        for (const std::int64_t n : kLengths) {
          step.l2 = decoupled ? 0.0 : 0.01;
          step.shrink = decoupled ? 1.0 - step.lr * 0.01 : 1.0;
          mg::Generator gen(static_cast<std::uint64_t>(n));
          const Tensor theta0 = mg::randn({n}, gen).to(dtype), grad = mg::randn({n}, gen).to(dtype);
          const Tensor m0 = mg::randn({n}, gen).to(dtype), v0 = mg::uniform({n}, 0.0, 2.0, gen).to(dtype);
          Tensor want = theta0.clone(), want_m = m0.clone(), want_v = v0.clone();
          k::adam_update_scalar(want, grad, want_m, want_v, step);
          for (const Isa isa : k::supported_isas()) {
            CAPTURE(k::isa_name(isa));
            CAPTURE(n);
            CAPTURE(decoupled);
            const PathGuard g(isa);
            Tensor theta = theta0.clone(), m = m0.clone(), v = v0.clone();
            k::adam_update(theta, grad, m, v, step);
            CHECK(same_bits(theta, want));
            CHECK(same_bits(m, want_m));
            CHECK(same_bits(v, want_v));
          }
        }
  }

  TEST_CASE("adam_update: a tensor of another dtype or size is named") {
    Tensor theta = mg::zeros({4}), m = mg::zeros({4}), v = mg::zeros({4});
    const Tensor grad = mg::zeros({4});
    Tensor short_m = mg::zeros({3}), double_v = mg::zeros({4}, DType::F64);
    CHECK_THROWS_WITH_AS(k::adam_update(theta, mg::zeros({5}), m, v, {}),
                         "adam_update: grad must be f32 with 4 elements like theta, got f32 with 5",
                         mg::ValueError);
    CHECK_THROWS_WITH_AS(k::adam_update(theta, grad, short_m, v, {}),
                         "adam_update: m must be f32 with 4 elements like theta, got f32 with 3", mg::ValueError);
    CHECK_THROWS_WITH_AS(k::adam_update(theta, grad, m, double_v, {}),
                         "adam_update: v must be f32 with 4 elements like theta, got f64 with 4", mg::ValueError);
    CHECK_THROWS_WITH_AS(k::adam_update_scalar(theta, grad, short_m, v, {}),
                         "adam_update_scalar: m must be f32 with 4 elements like theta, got f32 with 3",
                         mg::ValueError);
  }
}
