// NaN propagation (Note [NaN propagation] in autograd/kernels/elementwise_isa.cpp):
// every op whose value depends on a comparison gives NaN for a NaN input, on every
// kernel path this CPU runs, at every position of a SIMD body and its tail.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/kernels/cpu.h"
#include "autograd/ops.h"
#include "autograd/vision.h"
#include "tests/autograd/isa_guard.h"

using namespace mg;

// Named, not anonymous: the unity build puts several test files in one unit.
namespace nan_test {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kNanLengths[] = {1, 5, 16, 17, 35};
constexpr DType kDtypes[] = {DType::F32, DType::F64};

// Values -2.5, -1.5, ..., with NaN at `at`.
Tensor with_nan(std::int64_t n, std::int64_t at, DType dtype) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(i % 6) - 2.5;
  v[static_cast<std::size_t>(at)] = kNaN;
  const Tensor t = from_vector(v, {n});
  return dtype == DType::F64 ? t : t.to(dtype);
}

// Runs `f` on every kernel path this CPU has, for both dtypes.
template <class F>
void on_every_path(F f) {
  for (const kernels::Isa isa : kernels::supported_isas()) {
    const test::IsaGuard path(isa);
    for (const DType dtype : kDtypes) {
      CAPTURE(std::string(kernels::isa_name(isa)));
      CAPTURE(std::string(dtype_name(dtype)));
      f(dtype);
    }
  }
}

struct NamedUnary {
  const char* name;
  Tensor (*f)(const Tensor&);
};
const NamedUnary kUnaryOps[] = {
    {"relu", [](const Tensor& x) { return relu(x); }},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }},
    {"clamp", [](const Tensor& x) { return clamp(x, -1.0, 1.0); }},
    {"abs", [](const Tensor& x) { return abs(x); }},
    {"sign", [](const Tensor& x) { return sign(x); }},
    {"neg", [](const Tensor& x) { return neg(x); }},
    {"sqrt", [](const Tensor& x) { return sqrt(abs(x)); }},
    {"exp", [](const Tensor& x) { return exp(x); }},
    {"tanh", [](const Tensor& x) { return tanh(x); }},
    {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
    {"pow", [](const Tensor& x) { return pow(x, 2.0); }},
    {"add_scalar", [](const Tensor& x) { return add_scalar(x, 1.0); }},
    {"mul_scalar", [](const Tensor& x) { return mul_scalar(x, 3.0); }},
    {"softmax", [](const Tensor& x) { return softmax(reshape(x, {1, x.numel()}), 1); }},
    {"log_softmax", [](const Tensor& x) { return log_softmax(reshape(x, {1, x.numel()}), 1); }},
};

}  // namespace nan_test

TEST_SUITE("ops") {
  using namespace nan_test;

  TEST_CASE("elementwise ops give NaN where the input is NaN, the same values elsewhere") {
    on_every_path([](DType dtype) {
      for (const std::int64_t n : kNanLengths)
        for (std::int64_t at = 0; at < n; at += (n > 8 ? 3 : 1))
          for (const NamedUnary& op : kUnaryOps) {
            CAPTURE(op.name);
            CAPTURE(n);
            CAPTURE(at);
            const Tensor x = with_nan(n, at, dtype);
            const std::vector<double> y = op.f(x).to_vector<double>();
            CHECK(std::isnan(y[static_cast<std::size_t>(at)]));
            if (std::string(op.name) == "softmax" || std::string(op.name) == "log_softmax") continue;  // whole row
            for (std::int64_t i = 0; i < n; ++i)
              if (i != at) CHECK(std::isfinite(y[static_cast<std::size_t>(i)]));
          }
    });
  }

  TEST_CASE("relu, clamp and leaky_relu keep their values on finite inputs and infinities") {
    on_every_path([](DType dtype) {
      const Tensor x = from_vector(std::vector<double>{-kInf, -2.0, -0.0, 0.0, 0.5, 3.0, kInf}, {7}).to(dtype);
      const std::vector<double> r = relu(x).to_vector<double>();
      CHECK(r == std::vector<double>{0.0, 0.0, 0.0, 0.0, 0.5, 3.0, kInf});
      const std::vector<double> c = clamp(x, -1.0, 1.0).to_vector<double>();
      CHECK(c == std::vector<double>{-1.0, -1.0, 0.0, 0.0, 0.5, 1.0, 1.0});
      const std::vector<double> l = leaky_relu(x, 0.5).to_vector<double>();
      CHECK(l == std::vector<double>{-kInf, -1.0, 0.0, 0.0, 0.5, 3.0, kInf});
      const std::vector<double> s = sign(x).to_vector<double>();
      CHECK(s == std::vector<double>{-1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 1.0});
    });
  }

  TEST_CASE("max gives NaN when its reduced axis holds a NaN, wherever it is") {
    on_every_path([](DType dtype) {
      for (const std::int64_t n : kNanLengths)
        for (std::int64_t at = 0; at < n; ++at) {
          CAPTURE(n);
          CAPTURE(at);
          const Tensor x = with_nan(n, at, dtype);
          CHECK(std::isnan(max(x).item()));
          // Along an axis: only the row with the NaN is NaN, in the loop over a
          // contiguous run (reduce the last axis) and the elementwise one (the first).
          const Tensor rows = concat({reshape(x, {1, n}), ones({1, n}, dtype)}, 0);
          const std::vector<double> by_row = max(rows, {1}).to_vector<double>();
          CHECK(std::isnan(by_row[0]));
          CHECK(by_row[1] == 1.0);
          const Tensor columns = concat({ones({n, 1}, dtype), reshape(x, {n, 1})}, 1);
          const std::vector<double> by_column = max(columns, {0}).to_vector<double>();
          CHECK(by_column[0] == 1.0);
          CHECK(std::isnan(by_column[1]));
        }
    });
  }

  TEST_CASE("max: a NaN before larger values and infinities stays NaN; -inf is a value") {
    on_every_path([](DType dtype) {
      const Tensor a = from_vector(std::vector<double>{kNaN, 1.0, 5.0, kInf, 2.0}, {5}).to(dtype);
      CHECK(std::isnan(max(a).item()));
      const Tensor b = from_vector(std::vector<double>{-kInf, -kInf}, {2}).to(dtype);
      CHECK(max(b).item() == -kInf);
      const Tensor c = from_vector(std::vector<double>{-1.0, kInf, 3.0}, {3}).to(dtype);
      CHECK(max(c).item() == kInf);
    });
  }

  TEST_CASE("argmax points at the first NaN") {
    on_every_path([](DType dtype) {
      const Tensor x = from_vector(std::vector<double>{1.0, 9.0, kNaN, 20.0, kNaN, 2.0}, {2, 3}).to(dtype);
      CHECK(argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1});
      CHECK(argmax(x, 0).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0});
      const Tensor y = from_vector(std::vector<double>{kNaN, 9.0, kInf}, {3}).to(dtype);
      CHECK(argmax(y, 0).item() == 0.0);
    });
  }

  TEST_CASE("max_pool2d gives NaN for every window that holds a NaN, on every path") {
    // 2x2 stride 2 (windows tile the plane) and 3x3 stride 1 (windows overlap); 9x9
    // planes make 16+ windows, so the 16-wide gather path has a full vector and a tail.
    struct Window {
      int k, s;
    };
    for (const Window w : {Window{2, 2}, Window{3, 1}}) {
      on_every_path([&](DType dtype) {
        const std::int64_t side = 9, out = (side - w.k) / w.s + 1;
        for (const std::int64_t at : {std::int64_t{0}, std::int64_t{10}, std::int64_t{40}, std::int64_t{80}}) {
          CAPTURE(w.k);
          CAPTURE(at);
          std::vector<double> v(static_cast<std::size_t>(2 * side * side));
          for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7) % 13) - 6.0;
          v[static_cast<std::size_t>(side * side + at)] = kNaN;  // in the second plane
          const Tensor x = from_vector(v, {1, 2, side, side}).to(dtype);
          const std::vector<double> y = max_pool2d(x, {w.k, w.k}, {w.s, w.s}).to_vector<double>();
          const std::int64_t r = at / side, c = at % side;
          for (std::int64_t oh = 0; oh < out; ++oh)
            for (std::int64_t ow = 0; ow < out; ++ow) {
              const bool holds = r >= oh * w.s && r < oh * w.s + w.k && c >= ow * w.s && c < ow * w.s + w.k;
              CHECK(std::isnan(y[static_cast<std::size_t>(out * out + oh * out + ow)]) == holds);
              CHECK(std::isfinite(y[static_cast<std::size_t>(oh * out + ow)]));  // the first plane
            }
          // The arg-max index is the NaN's own (the first NaN of the window).
          const std::vector<std::int64_t> idx =
              max_pool2d_indices(x, {w.k, w.k}, {w.s, w.s}).to_vector<std::int64_t>();
          for (std::int64_t o = 0; o < out * out; ++o)
            if (std::isnan(y[static_cast<std::size_t>(out * out + o)])) CHECK(idx[static_cast<std::size_t>(out * out + o)] == at);
        }
      });
    }
  }
}
