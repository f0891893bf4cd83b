#include <doctest/doctest.h>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

TEST_SUITE("engine") {
  TEST_CASE("grad of tanh(x) * x matches the closed form") {
    TapeScope scope;
    Tensor x = from_vector(std::vector<double>{0.3, -1.2}, {2}).requires_grad_();
    const Tensor g = grad(sum(tanh(x) * x), x);
    for (std::int64_t i = 0; i < 2; ++i) {
      const double v = x.at({i}), t = std::tanh(v);
      CHECK(g.at({i}) == doctest::Approx(t + v * (1 - t * t)).epsilon(1e-12));
    }
  }
}
