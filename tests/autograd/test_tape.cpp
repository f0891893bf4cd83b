// The tape itself: creation order, printing, scopes that rewind, and the
// generation check that refuses handles whose nodes were rewound away.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

TEST_SUITE("tape") {
  TEST_CASE("nodes are appended in creation order and dump() prints them") {
    TapeScope scope;
    const std::int32_t base = Tape::current().size();
    Tensor w = ones({2, 3}).requires_grad_();
    Tensor x = ones({4, 2});
    const Tensor y = relu(matmul(x, w));
    CHECK(w.node() == base);  // bound as a leaf when matmul read it
    CHECK(y.node() == base + 2);
    const std::string text = dump();
    CHECK(text.find(fmt::format("%{} = leaf()", base)) != std::string::npos);
    CHECK(text.find(fmt::format("%{} = matmul(const[4, 2], %{})", base + 1, base)) != std::string::npos);
    CHECK(text.find(fmt::format("%{} = relu(%{})", base + 2, base + 1)) != std::string::npos);
    CHECK(text.find("[4, 3] f32") != std::string::npos);
  }

  TEST_CASE("ops on tensors that need no grad are not recorded") {
    TapeScope scope;
    const std::int32_t before = Tape::current().size();
    const Tensor y = exp(ones({3}) * 2.0);
    CHECK(Tape::current().size() == before);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.node() == -1);
  }

  TEST_CASE("rewinding returns the nodes and the memory they held") {
    const TapeStats start = Tape::current().stats();
    const std::int64_t live = Storage::live_bytes();
    Tensor w = full({64, 64}, 0.01).requires_grad_();
    Generator gen(3);
    const Tensor x = randn({32, 64}, gen);
    const std::int64_t with_params = Storage::live_bytes();
    for (int step = 0; step < 50; ++step) {
      TapeScope scope;
      const Tensor loss = mean(tanh(matmul(x, w)));
      const Tensor g = grad(loss, w);
      CHECK(Tape::current().stats().nodes > start.nodes);
      CHECK(Tape::current().stats().saved_bytes > start.saved_bytes);
      NoGradGuard no_grad;
      w = (w - g * 0.1).detach().requires_grad_();
    }
    const TapeStats end = Tape::current().stats();
    CHECK(end.nodes == start.nodes);
    CHECK(end.saved_tensors == start.saved_tensors);
    CHECK(end.saved_bytes == start.saved_bytes);
    CHECK(Storage::live_bytes() == with_params);
    w = Tensor{};
    CHECK(Storage::live_bytes() == live + static_cast<std::int64_t>(x.nbytes()));
  }

  TEST_CASE("a result from a rewound scope is refused, naming both generations") {
    Tensor w = ones({2}).requires_grad_();
    Tensor kept;
    std::uint32_t recorded_at = 0;
    {
      TapeScope scope;
      kept = w * w;
      recorded_at = Tape::current().generation();
    }
    const std::uint32_t now = Tape::current().generation();
    CHECK(now > recorded_at);
    TapeScope scope;
    CHECK_THROWS_WITH_AS(kept + w,
                         doctest::Contains(fmt::format("add: tensor from a rewound tape scope: it was recorded as node "
                                                       "%{} in tape generation {}, but the tape has been rewound since "
                                                       "(now generation {}",
                                                       kept.node(), recorded_at, now)
                                           .c_str()),
                         TapeError);
    CHECK_THROWS_WITH_AS(grad({kept}, {w}, {.grad_outputs = {ones({2})}}),
                         doctest::Contains("grad: tensor from a rewound tape scope"), TapeError);
    // Its values are still readable, and under no-grad it can be used as data.
    CHECK(kept.at({0}) == 1.0f);
    NoGradGuard off;
    CHECK((kept + w).at({1}) == 2.0f);
  }

  TEST_CASE("leaves are bound again after a rewind") {
    Tensor w = full({1}, 3.0, DType::F64).requires_grad_();
    for (int i = 0; i < 3; ++i) {
      TapeScope scope;
      CHECK(grad(sum(w * w), w).item() == 6.0);
    }
  }

  TEST_CASE("nodes recorded before a nested scope stay valid after it") {
    TapeScope outer;
    Tensor w = full({1}, 2.0, DType::F64).requires_grad_();
    const Tensor y = w * w;
    {
      TapeScope inner;
      (void)grad(sum(y * w), w);
    }
    CHECK(grad(sum(y), w).item() == 4.0);
  }
}
