// metagrad's sgemm (autograd/kernels/sgemm.h) on each CPU path that has one (avx512:
// sgemm.cpp, avx2: sgemm_avx2.cpp) and the sgemm entry points of blas.h, against a
// plain triple loop in double precision. The bound is the classic one for a length-k
// dot product in float32, |c - c_exact| <= k · eps · Σ_p |a_ip · b_pj|
// (twice γ_k), so it scales with K and holds for any blocking order.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "autograd/creation.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/kernels/sgemm_small_isa.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "tests/autograd/isa_guard.h"

namespace {

using mg::kernels::sgemm;
using mg::kernels::sgemm_cblas;
using mg::kernels::sgemm_packed;
using mg::kernels::sgemm_supported;

using SgemmFn = void (*)(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);

// One product C = alpha · op(A) · op(B) + beta · C with leading dimensions `pad` wider
// than needed and every matrix starting `offset` floats into its buffer (a submatrix
// view); C's padding and the floats around it hold a sentinel that must survive.
struct Problem {
  bool ta, tb;
  int m, n, k;
  int pad = 0, offset = 0;
  float alpha = 1.0f, beta = 0.0f;

  static constexpr float kSentinel = -12345.0f;

  int lda() const { return (ta ? m : k) + pad; }
  int ldb() const { return (tb ? k : n) + pad; }
  int ldc() const { return n + pad; }
  std::string label() const {
    return fmt::format("ta={} tb={} m={} n={} k={} pad={} offset={} alpha={} beta={}", ta, tb, m, n, k, pad, offset,
                       alpha, beta);
  }

  // Runs `fn` and returns the number of elements outside the bound (0 when all is well).
  int run(SgemmFn fn, std::uint32_t seed = 1) const {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    const std::size_t a_rows = static_cast<std::size_t>(ta ? k : m), b_rows = static_cast<std::size_t>(tb ? n : k);
    std::vector<float> a(offset + a_rows * lda() + 1), b(offset + b_rows * ldb() + 1);
    std::vector<float> c(offset + static_cast<std::size_t>(m) * ldc() + 1, kSentinel);
    for (float& x : a) x = dist(gen);
    for (float& x : b) x = dist(gen);
    const float* pa = a.data() + offset;
    const float* pb = b.data() + offset;
    float* pc = c.data() + offset;
    std::vector<float> c_before(c);
    if (beta != 0.0f)
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) pc[i * ldc() + j] = c_before[offset + i * ldc() + j] = dist(gen);
    else
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) pc[i * ldc() + j] = std::numeric_limits<float>::quiet_NaN();  // must not be read

    fn(ta, tb, m, n, k, alpha, pa, lda(), pb, ldb(), beta, pc, ldc());

    int bad = 0;
    for (std::size_t idx = 0; idx < c.size(); ++idx) {
      const std::ptrdiff_t rel = static_cast<std::ptrdiff_t>(idx) - offset;
      const bool inside = rel >= 0 && rel / ldc() < m && rel % ldc() < n;
      if (!inside) {
        bad += c[idx] != kSentinel;
        continue;
      }
      const int i = static_cast<int>(rel / ldc()), j = static_cast<int>(rel % ldc());
      double exact = 0.0, magnitude = 0.0;
      for (int p = 0; p < k; ++p) {
        const double x = ta ? pa[p * lda() + i] : pa[i * lda() + p];
        const double y = tb ? pb[j * ldb() + p] : pb[p * ldb() + j];
        exact += x * y;
        magnitude += std::fabs(x * y);
      }
      const double before = c_before[idx];
      exact = alpha * exact + (beta != 0.0f ? beta * before : 0.0);
      magnitude = std::fabs(alpha) * magnitude + (beta != 0.0f ? std::fabs(beta * before) : 0.0);
      const double bound = (k + 2) * static_cast<double>(FLT_EPSILON) * magnitude + 1e-30;
      bad += !(std::fabs(c[idx] - exact) <= bound);
    }
    return bad;
  }
};

// Odd sizes around the register tiles (avx512: 8 × 48, 12 × 32; avx2: 6 × 16) and the
// vector widths (16, 8); on avx512 m = 11, 12, 33 take the 12 × 32 tile, the others 8 × 48.
constexpr int kOddSizes[] = {1, 2, 5, 11, 12, 13, 16, 17, 31, 32, 33, 47, 65};

void check_many_shapes(SgemmFn fn) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int m : kOddSizes)
        for (int n : kOddSizes)
          for (int k : {1, 3, 16, 17, 40, 257}) {
            const Problem p{ta, tb, m, n, k, (m + n + k) % 3, (m * n) % 5};
            INFO(p.label());
            REQUIRE(p.run(fn) == 0);
          }
}

// Random operands of op(A)·op(B) + beta·C with the given leading dimensions, from `seed`.
struct RandomOperands {
  std::vector<float> a, b, c;
  RandomOperands(bool ta, bool tb, int m, int n, int k, int lda, int ldb, int ldc, std::uint32_t seed)
      : a(static_cast<std::size_t>((ta ? k : m) * lda)), b(static_cast<std::size_t>((tb ? n : k) * ldb)),
        c(static_cast<std::size_t>(m * ldc)) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (std::vector<float>* v : {&a, &b, &c})
      for (float& x : *v) x = dist(gen);
  }
};

// f() once on each path that has its own sgemm (avx2, avx512) and this CPU runs.
template <class F>
void on_each_sgemm_path(F f) {
  for (const mg::kernels::Isa isa : mg::kernels::supported_isas()) {
    if (isa == mg::kernels::Isa::Generic) continue;  // matmul uses cblas_sgemm, tested below
    const mg::test::IsaGuard guard(isa);
    INFO("path ", std::string(mg::kernels::isa_name(isa)));
    f();
  }
}

}  // namespace

TEST_SUITE("sgemm") {
  TEST_CASE("sgemm_backend names the kernel that matmul uses") {
    const std::string backend = mg::kernels::sgemm_backend();
    const std::string path(mg::kernels::isa_name(mg::kernels::active_isa()));
    CHECK(backend == (sgemm_supported() ? path : "openblas"));
  }

  TEST_CASE("sgemm_cblas matches the triple loop for all transposes and leading dimensions") {
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (const Problem& p : {Problem{ta, tb, 1, 1, 1}, Problem{ta, tb, 13, 17, 33, 3, 2},
                                 Problem{ta, tb, 40, 10, 40, 0, 0, 0.5f, 2.0f}}) {
          INFO(p.label());
          CHECK(p.run(sgemm_cblas) == 0);
        }
  }

  TEST_CASE("sgemm matches the triple loop on odd shapes, all four transposes") {
    on_each_sgemm_path([&] {
      check_many_shapes(sgemm);
    });
  }

  TEST_CASE("sgemm_packed matches the triple loop on odd shapes, all four transposes") {
    on_each_sgemm_path([&] { check_many_shapes(sgemm_packed); });
  }

  TEST_CASE("small products (no packing) equal the packed kernels bit for bit") {
    // Note [Small products without packing]: the same chain of FMAs per element of C.
    on_each_sgemm_path([&] {
      int small = 0;
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (int m : {1, 3, 5, 8, 9, 10, 17, 40, 64})
            for (int n : {1, 7, 8, 15, 16, 17, 40, 48, 49, 64})
              for (int k : {1, 5, 8, 9, 40, 128, 256})
                for (const auto& ab : {std::pair{1.0f, 0.0f}, std::pair{0.5f, 0.0f}, std::pair{1.0f, -2.0f}}) {
                  const float alpha = ab.first, beta = ab.second;  // INFO captures them: clang 14 refuses bindings
                  if (!mg::kernels::small_sgemm_fits(m, n, k)) continue;
                  ++small;
                  const int pad = (m + n + k) % 3, lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                  RandomOperands r(ta, tb, m, n, k, lda, ldb, ldc, static_cast<std::uint32_t>(m * 10007 + n * 101 + k));
                  std::vector<float>&a = r.a, &b = r.b, &c1 = r.c;
                  std::vector<float> c2 = c1;
                  sgemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c1.data(), ldc);
                  sgemm_packed(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c2.data(), ldc);
                  INFO("ta=", ta, " tb=", tb, " m=", m, " n=", n, " k=", k, " alpha=", alpha, " beta=", beta);
                  REQUIRE(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
                }
      CHECK(small > 1000);  // the list above reaches the small kernels, on both sides of their limits
    });
    CHECK_FALSE(mg::kernels::small_sgemm_fits(10, 40, mg::kernels::kSmallSgemmMaxK + 1));
    CHECK_FALSE(mg::kernels::small_sgemm_fits(10, 129, 1));
    CHECK_FALSE(mg::kernels::small_sgemm_fits(10, 128, 65));
    CHECK(mg::kernels::small_sgemm_fits(10, 40, 40));
  }

  TEST_CASE("sgemm split over op threads gives the one-thread bits (Note [Splitting a product])") {
    // Column splits (conv forward and input gradient), row splits (layer 1's weight
    // gradient, nine columns), parts that fall to the small kernels while the whole
    // product does not, and m = 33, whose parts take the 8 x 48 tile where the whole
    // takes 12 x 32.
    struct Shape3 {
      int m, n, k;
    };
    const Shape3 shapes[] = {{64, 2352, 9}, {64, 9, 20000}, {10, 200, 600}, {200, 192, 40}, {33, 50, 2000},
                             {64, 1000, 576}, {17, 97, 1200}};
    on_each_sgemm_path([&] {
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (const Shape3& sh : shapes) {
            const int m = sh.m, n = sh.n, k = sh.k;
            const int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
            RandomOperands r(ta, tb, m, n, k, lda, ldb, ldc, static_cast<std::uint32_t>(m * 31 + n * 7 + k));
            std::vector<float>&a = r.a, &b = r.b, &c1 = r.c;
            std::vector<float> c2 = c1, c3 = c1;
            sgemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 1.0f, c1.data(), ldc);
            {
              const mg::kernels::OpThreads two(2);
              sgemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 1.0f, c2.data(), ldc);
            }
            {
              const mg::kernels::OpThreads three(3);
              sgemm(ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 1.0f, c3.data(), ldc);
            }
            INFO("ta=", ta, " tb=", tb, " m=", m, " n=", n, " k=", k);
            REQUIRE(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0);
            REQUIRE(std::memcmp(c1.data(), c3.data(), c1.size() * sizeof(float)) == 0);
          }
    });
  }

  TEST_CASE("split_keeps_bits: float32 products on metagrad's own sgemm, not OpenBLAS") {
    on_each_sgemm_path([] {
      CHECK(mg::kernels::split_keeps_bits<float>());
      CHECK_FALSE(mg::kernels::split_keeps_bits<double>());
    });
    const mg::test::IsaGuard guard(mg::kernels::Isa::Generic);
    CHECK_FALSE(mg::kernels::split_keeps_bits<float>());
  }

  TEST_CASE("sgemm and sgemm_packed refuse the generic path") {
    const mg::test::IsaGuard guard(mg::kernels::Isa::Generic);
    float c = 0.0f;
    CHECK_THROWS_WITH_AS(sgemm(false, false, 1, 1, 1, 1.0f, &c, 1, &c, 1, 0.0f, &c, 1),
                         "sgemm: internal error: the active CPU path is generic; call cblas_sgemm", std::logic_error);
    CHECK_THROWS_WITH_AS(sgemm_packed(false, false, 1, 1, 1, 1.0f, &c, 1, &c, 1, 0.0f, &c, 1),
                         "sgemm_packed: internal error: the active CPU path is generic; call cblas_sgemm",
                         std::logic_error);
  }

  TEST_CASE("sgemm on large products spanning several blocks in m, n and k") {
    // The blocks: rows of A 128 or 192 (avx512's 8 × 48 or 12 × 32 tile) or 144 (avx2),
    // columns of B 1536 or 1024 (avx512) or 1024 (avx2), depth 256 (sgemm.cpp,
    // sgemm_avx2.cpp). The first product crosses row blocks and two depth blocks, the second
    // avx2's column blocks; each as small as that allows: the double-precision reference is
    // most of this test's time under ASan.
    on_each_sgemm_path([&] {
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (const Problem& p : {Problem{ta, tb, 300, 130, 520}, Problem{ta, tb, 205, 1100, 300, 7, 3},
                                   Problem{ta, tb, 64, 40, 2000, 1, 1}}) {
            INFO(p.label());
            CHECK(p.run(sgemm) == 0);
          }
    });
  }

  TEST_CASE("sgemm applies alpha and beta like BLAS (beta = 0 never reads C)") {
    on_each_sgemm_path([&] {
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (auto [alpha, beta] : {std::pair{1.0f, 1.0f}, std::pair{2.0f, -0.5f}, std::pair{-1.5f, 0.0f}}) {
            for (const Problem& p : {Problem{ta, tb, 29, 45, 19, 2, 1, alpha, beta},
                                     Problem{ta, tb, 30, 70, 600, 0, 0, alpha, beta}}) {
              INFO(p.label());
              CHECK(p.run(sgemm) == 0);
            }
          }
    });
  }

  TEST_CASE("sgemm with k = 0, alpha = 0 or an empty C") {
    on_each_sgemm_path([&] {
      for (const Problem& p : {Problem{false, false, 7, 9, 0}, Problem{true, true, 7, 9, 0, 1, 2, 1.0f, 0.5f},
                               Problem{false, true, 7, 9, 5, 0, 0, 0.0f, 0.0f},
                               Problem{true, false, 7, 9, 5, 0, 0, 0.0f, 3.0f}}) {
        INFO(p.label());
        CHECK(p.run(sgemm) == 0);
      }
      // m = 0 or n = 0: nothing is written (a null C is never touched).
      sgemm(false, false, 0, 5, 3, 1.0f, nullptr, 3, nullptr, 5, 0.0f, nullptr, 5);
      sgemm(false, false, 5, 0, 3, 1.0f, nullptr, 3, nullptr, 1, 0.0f, nullptr, 1);
    });
  }

  TEST_CASE("sgemm agrees with cblas_sgemm") {
    on_each_sgemm_path([&] {
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          const int m = 77, n = 93, k = 301;
          std::mt19937 gen(5);
          std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
          std::vector<float> a(m * k), b(k * n), c1(m * n), c2(m * n);
          for (float& x : a) x = dist(gen);
          for (float& x : b) x = dist(gen);
          sgemm(ta, tb, m, n, k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0f, c1.data(), n);
          sgemm_cblas(ta, tb, m, n, k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0f, c2.data(), n);
          double worst = 0.0;
          for (int i = 0; i < m * n; ++i) worst = std::max(worst, std::fabs(double(c1[i]) - c2[i]));
          INFO("ta=", ta, " tb=", tb);
          CHECK(worst < 2.0 * k * FLT_EPSILON * k);  // both within k·eps·Σ|ab| <= k·eps·k of the exact value
        }
    });
  }

  TEST_CASE("sgemm from several threads at once (per-thread packing buffers)") {
    on_each_sgemm_path([&] {
      std::vector<int> bad(4, -1);
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t)
        threads.emplace_back([t, &bad] {
          const Problem p{t % 2 == 1, t / 2 == 1, 50 + t, 300 - t, 270 + 3 * t, t, t};
          bad[t] = 0;
          for (int rep = 0; rep < 3; ++rep) bad[t] += p.run(sgemm, static_cast<std::uint32_t>(rep));
        });
      for (std::thread& th : threads) th.join();
      for (int t = 0; t < 4; ++t) CHECK(bad[t] == 0);
    });
  }

  TEST_CASE("float32 matmul goes through the selected sgemm and counts its flops") {
    mg::Generator gen(9);
    const mg::Tensor a = mg::randn({37, 130}, gen), b = mg::randn({130, 45}, gen);
    const std::uint64_t before = mg::kernels::gemm_flop_count();
    const mg::Tensor c = mg::matmul(a, b);
    CHECK(mg::kernels::gemm_flop_count() - before >= 2ull * 37 * 130 * 45);
    const mg::Tensor c64 = mg::matmul(a.to(mg::DType::F64), b.to(mg::DType::F64));
    const float* pc = c.data<float>();
    const double* pc64 = c64.data<double>();
    for (int i = 0; i < 37 * 45; ++i) CHECK(std::fabs(pc[i] - pc64[i]) <= 130 * 130 * FLT_EPSILON * 4);
  }
}
