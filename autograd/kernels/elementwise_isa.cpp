// The elementwise loops of one instruction set: compiled three times, with
// -DMG_ISA=generic|avx2|avx512 and that path's flags (Note [CPU dispatch] in cpu.h).
// Everything here lives in mg::kernels::MG_ISA and uses only builtins: no standard
// library inline function is compiled with wide instructions.
//
// Each lambda is the generic path's scalar expression, and the objects are built with
// -ffp-contract=off: every path does the same IEEE operation per element, so results
// are bit-identical whatever the vector width.
#include "autograd/kernels/elementwise_isa.h"

#ifndef MG_ISA
#error "elementwise_isa.cpp is compiled once per path with -DMG_ISA=<path> (autograd/meson.build)"
#endif

namespace mg::kernels::MG_ISA {

namespace {

using I64 = std::int64_t;

// The common strides get their own loops, which vectorise: both contiguous, or one
// a constant.
template <class T, class F>
inline void binary_run(const T* __restrict a, I64 sa, const T* __restrict b, I64 sb, T* __restrict o, I64 n, F f) {
  if (sa == 1 && sb == 1) {
    for (I64 i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T s = b[0];
    for (I64 i = 0; i < n; ++i) o[i] = f(a[i], s);
  } else if (sa == 0 && sb == 1) {
    const T s = a[0];
    for (I64 i = 0; i < n; ++i) o[i] = f(s, b[i]);
  } else {
    for (I64 i = 0; i < n; ++i) o[i] = f(a[i * sa], b[i * sb]);
  }
}

template <class T>
void binary(Binary op, const T* a, I64 sa, const T* b, I64 sb, T* o, I64 n) {
  switch (op) {
    case Binary::Add: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x + y; });
    case Binary::Sub: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x - y; });
    case Binary::Mul: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x * y; });
    case Binary::Div: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x / y; });
    case Binary::Greater: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return T(x > y ? 1 : 0); });
    case Binary::Equal: return binary_run(a, sa, b, sb, o, n, [](T x, T y) { return T(x == y ? 1 : 0); });
  }
}

template <class T, class F>
inline void unary_run(const T* __restrict x, T* __restrict o, I64 n, F f) {
  for (I64 i = 0; i < n; ++i) o[i] = f(x[i]);
}

template <class T>
T sqrt_of(T v) {
  if constexpr (sizeof(T) == 4)
    return __builtin_sqrtf(v);
  else
    return __builtin_sqrt(v);
}

template <class T>
T abs_of(T v) {
  if constexpr (sizeof(T) == 4)
    return __builtin_fabsf(v);
  else
    return __builtin_fabs(v);
}

// Note [NaN propagation]: as in IEEE arithmetic and PyTorch, an op whose value depends
// on a comparison gives NaN for a NaN input, so that a divergence shows where it
// started instead of turning into 0 (relu) or being skipped (max). A comparison with
// NaN is false, so each select is written to fall through to the input on NaN:
// relu is "v <= 0 ? 0 : v" (not "v > 0 ? v : 0", which maps NaN to 0), clamp
// compares with each bound and otherwise returns v, leaky_relu's other branch is
// p * v. The 0/1 masks (greater, equal, inside_mask) are comparisons themselves and
// stay 0 for NaN.
template <class T>
bool unary(Unary op, const T* x, T* o, I64 n, T p, T q) {
  switch (op) {
    case Unary::Neg: unary_run(x, o, n, [](T v) { return -v; }); return true;
    case Unary::Sqrt: unary_run(x, o, n, [](T v) { return sqrt_of(v); }); return true;
    case Unary::Abs: unary_run(x, o, n, [](T v) { return abs_of(v); }); return true;
    case Unary::Relu: unary_run(x, o, n, [](T v) { return v <= T(0) ? T(0) : v; }); return true;
    case Unary::Sign: unary_run(x, o, n, [](T v) { return v != v ? v : T((v > T(0)) - (v < T(0))); }); return true;
    case Unary::AddScalar: unary_run(x, o, n, [p](T v) { return v + p; }); return true;
    case Unary::MulScalar: unary_run(x, o, n, [p](T v) { return v * p; }); return true;
    case Unary::Pow:
      if (p != T(2)) return false;
      unary_run(x, o, n, [](T v) { return v * v; });
      return true;
    case Unary::LeakyRelu: unary_run(x, o, n, [p](T v) { return v > T(0) ? v : p * v; }); return true;
    case Unary::Clamp: unary_run(x, o, n, [p, q](T v) { return v < p ? p : (v > q ? q : v); }); return true;
    case Unary::InsideMask: unary_run(x, o, n, [p, q](T v) { return T(v >= p && v <= q ? 1 : 0); }); return true;
    case Unary::Exp:
    case Unary::Log:
    case Unary::Tanh:
    case Unary::Sigmoid: return false;
  }
  return false;
}

template <class T>
void where(const T* __restrict c, I64 sc, const T* __restrict a, I64 sa, const T* __restrict b, I64 sb,
           T* __restrict o, I64 n) {
  if (sc == 1 && sa == 1 && sb == 1) {
    for (I64 i = 0; i < n; ++i) o[i] = c[i] != T(0) ? a[i] : b[i];
  } else if (sc == 1 && sa == 1 && sb == 0) {  // where(mask, x, constant)
    const T s = b[0];
    for (I64 i = 0; i < n; ++i) o[i] = c[i] != T(0) ? a[i] : s;
  } else if (sc == 1 && sa == 0 && sb == 1) {
    const T s = a[0];
    for (I64 i = 0; i < n; ++i) o[i] = c[i] != T(0) ? s : b[i];
  } else {
    for (I64 i = 0; i < n; ++i) o[i] = c[i * sc] != T(0) ? a[i * sa] : b[i * sb];
  }
}

}  // namespace

extern const ElementwiseKernels<float> elementwise_f32{binary<float>, unary<float>, where<float>};
extern const ElementwiseKernels<double> elementwise_f64{binary<double>, unary<double>, where<double>};

}  // namespace mg::kernels::MG_ISA
