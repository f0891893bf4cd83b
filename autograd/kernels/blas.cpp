#include "autograd/kernels/blas.h"

#include <cblas.h>

#include "autograd/kernels/cpu.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/thread_counter.h"

namespace mg::kernels {

namespace {

// Per-thread slots (no cache line shared by the workers); made on first use and never
// destroyed (see g_live_bytes in storage.cpp).
ThreadCounter& flops() {
  static ThreadCounter* c = new ThreadCounter;
  return *c;
}

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  flops().add(2 * std::int64_t{m} * n * k);
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (sizeof(T) == 4) {
    if (sgemm_supported())
      sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
    else
      cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  } else
    cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

template void gemm<float>(bool, bool, int, int, int, const float*, int, const float*, int, float, float*, int);
template void gemm<double>(bool, bool, int, int, int, const double*, int, const double*, int, double, double*, int);

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, const Shape& out_shape) {
  Tensor out(out_shape, a.dtype());
  dispatch_float("matmul", a.dtype(), [&]<class T>() {
    const int nd = a.ndim();
    const std::int64_t batch = nd == 3 ? a.shape()[0] : 1;
    const int ar = static_cast<int>(a.shape()[nd - 2]), ac = static_cast<int>(a.shape()[nd - 1]);
    const int br = static_cast<int>(b.shape()[nd - 2]), bc = static_cast<int>(b.shape()[nd - 1]);
    const int m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.mutable_data<T>();
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (std::int64_t i = 0; i < out_shape.numel(); ++i) pc[i] = T(0);
      return;
    }
    for (std::int64_t i = 0; i < batch; ++i)
      gemm<T>(ta, tb, m, n, k, pa + i * ar * ac, ac, pb + i * br * bc, bc, T(0), pc + i * m * n, n);
  });
  return out;
}

Tensor matmul_shared(const Tensor& a, const Tensor& b, bool ta, const Shape& out_shape) {
  Tensor out(out_shape, a.dtype());
  dispatch_float("matmul_shared", a.dtype(), [&]<class T>() {
    const int ar = static_cast<int>(a.shape()[0]), ac = static_cast<int>(a.shape()[1]);
    const std::int64_t batch = b.shape()[0];
    const int n = static_cast<int>(b.shape()[2]);
    const int m = ta ? ac : ar, k = ta ? ar : ac;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.mutable_data<T>();
    if (out_shape.numel() == 0) return;
    if (k == 0) {
      for (std::int64_t i = 0; i < out_shape.numel(); ++i) pc[i] = T(0);
      return;
    }
    for (std::int64_t i = 0; i < batch; ++i)
      gemm<T>(ta, false, m, n, k, pa, ac, pb + i * std::int64_t{k} * n, n, T(0), pc + i * std::int64_t{m} * n, n);
  });
  return out;
}

const char* sgemm_backend() {
  switch (active_isa()) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Generic: break;
  }
  return "openblas";
}

void sgemm_cblas(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                 float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc);
}

std::uint64_t gemm_flop_count() { return static_cast<std::uint64_t>(flops().total()); }

void set_blas_threads(int n) { openblas_set_num_threads(n); }
int blas_threads() { return openblas_get_num_threads(); }
const char* blas_config() { return openblas_get_config(); }

}  // namespace mg::kernels
