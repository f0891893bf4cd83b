// Helpers shared by the op tests: literal tensors, inputs kept away from the
// kinks of non-smooth ops, table registration of gradcheck cases, and the
// float32-against-float64 forward check.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tests/op_cases.h"

namespace mg::test {

inline Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s); }
inline Tensor f32(const std::vector<float>& v, const Shape& s) { return from_vector(v, s); }
inline Tensor i64(const std::vector<std::int64_t>& v, const Shape& s) { return from_vector(v, s); }

// f64 leaves that require grad, drawn from U[lo, hi) (log, sqrt, pow want lo > 0).
inline Inputs uniform_leaves(const std::vector<Shape>& shapes, double lo, double hi, std::uint64_t seed = 11) {
  Generator gen(seed);
  Inputs out;
  for (const Shape& s : shapes) out.push_back(uniform(s, lo, hi, gen, DType::F64).requires_grad_());
  return out;
}

// f64 leaves with |x| in [lo, hi) and random signs: at least lo away from the kink at 0.
inline Inputs signed_leaves(const std::vector<Shape>& shapes, double lo = 0.2, double hi = 1.5,
                            std::uint64_t seed = 13) {
  Generator gen(seed);
  Inputs out;
  for (const Shape& s : shapes) {
    Tensor t = uniform(s, lo, hi, gen, DType::F64);
    double* p = t.mutable_data<double>();
    for (std::int64_t i = 0; i < t.numel(); ++i)
      if (gen.below(2) == 1) p[i] = -p[i];
    out.push_back(t.requires_grad_());
  }
  return out;
}

// f64 leaves holding a shuffled grid of odd multiples of step/2, centred on 0: no ties
// (max), never 0 (relu, abs), and every value step/2 from any multiple of step (clamp bounds).
inline Inputs distinct_leaves(const std::vector<Shape>& shapes, double step = 0.3, std::uint64_t seed = 17) {
  Generator gen(seed);
  Inputs out;
  for (const Shape& s : shapes) {
    std::vector<double> v(static_cast<std::size_t>(s.numel()));
    for (std::size_t k = 0; k < v.size(); ++k)
      v[k] = (static_cast<double>(k) - static_cast<double>(v.size() / 2) + 0.5) * step;
    for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[gen.below(k)]);
    out.push_back(f64(v, s).requires_grad_());
  }
  return out;
}

// Registers many cases at once: `static const int r = register_cases({...});`.
inline int register_cases(const std::vector<OpCase>& cases) {
  for (const OpCase& c : cases) register_op_case(c);
  return static_cast<int>(cases.size());
}

// Checks every element of `t` against `want` (row-major) to a relative `tol`.
inline void check_close(const Tensor& t, const std::vector<double>& want, double tol) {
  REQUIRE(t.numel() == static_cast<std::int64_t>(want.size()));
  const std::vector<double> got = t.to_vector<double>();
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
  }
}

// check_close to float64 round-off; the second form checks the shape too.
inline void check_values(const Tensor& t, const std::vector<double>& want) { check_close(t, want, 1e-12); }
inline void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& want) {
  CHECK(t.shape() == shape);
  check_close(t, want, 1e-12);
}

// Runs f on the inputs converted to float32 and checks that the result is float32,
// has the float64 result's shape and agrees with it to float32 precision.
inline void check_f32_matches_f64(const CheckedFunction& f, const Inputs& inputs, double tol = 1e-5) {
  NoGradGuard no_grad;
  Inputs as64, as32;
  for (const Tensor& x : inputs) {
    as64.push_back(x.detach());
    as32.push_back(is_floating(x.dtype()) ? x.to(DType::F32) : x.detach());
  }
  const Tensor want = f(as64);
  const Tensor got = f(as32);
  REQUIRE(got.dtype() == DType::F32);
  REQUIRE(got.shape() == want.shape());
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (std::size_t i = 0; i < w.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(g[i] - w[i]) <= tol * (1.0 + std::abs(w[i])));
  }
}

// check_f32_matches_f64 for every registered case of `op` (a forward smoke test in f32).
inline void check_f32_for_cases(std::string_view op) {
  int seen = 0;
  for (const OpCase& c : op_cases()) {
    if (c.op != op) continue;
    ++seen;
    CAPTURE(c.label);
    check_f32_matches_f64(c.f, c.make_inputs());
  }
  CHECK_MESSAGE(seen > 0, "no cases for " << std::string(op));
}

}  // namespace mg::test
