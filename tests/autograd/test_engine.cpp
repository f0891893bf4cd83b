// The reverse sweep: grad(), backward(), options, guards and their errors.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <thread>

#include "autograd/channel.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

namespace {
Tensor vec(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return from_vector(v, {n});
}
}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("grad of tanh(x) * x matches the closed form") {
    TapeScope scope;
    Tensor x = vec({0.3, -1.2}).requires_grad_();
    const Tensor g = grad(sum(tanh(x) * x), x);
    for (std::int64_t i = 0; i < 2; ++i) {
      const double v = x.at({i}), t = std::tanh(v);
      CHECK(g.at({i}) == doctest::Approx(t + v * (1 - t * t)).epsilon(1e-12));
    }
  }

  TEST_CASE("a tensor used twice accumulates both paths") {
    TapeScope scope;
    Tensor x = vec({2.0}).requires_grad_();
    const Tensor y = sum(x * x * x + x);  // dy/dx = 3x^2 + 1
    CHECK(grad(y, x).item() == doctest::Approx(13.0));
  }

  TEST_CASE("gradients summed in place leave every tensor the caller holds as it was") {
    // Note [gradients summed in place]: the sum goes into a slot only when nothing else
    // holds its storage. A seed the caller passed for two outputs, the gradient of a
    // target it also receives, and a gradient add's backward hands to both inputs are
    // all shared, and must come out unchanged and right.
    TapeScope scope;
    Tensor x = vec({1.0, 2.0}).requires_grad_();
    const Tensor seed = vec({1.0, 10.0});
    const Tensor y1 = x * 3.0, y2 = x * 5.0;
    const Tensor h = x + x;  // add's backward: the same gradient for both inputs
    const auto g = grad({y1, y2, h}, {x, h}, {.grad_outputs = {seed, seed, seed}});
    CHECK(seed.to_vector<double>() == std::vector<double>{1.0, 10.0});
    CHECK(g[0].to_vector<double>() == std::vector<double>{10.0, 100.0});  // (3 + 5 + 2) * seed
    CHECK(g[1].to_vector<double>() == std::vector<double>{1.0, 10.0});
    // Recorded sweeps never write in place: the second derivative sees every term.
    Tensor z = vec({0.5}).requires_grad_();
    const Tensor dz = grad(sum(z * z * z + z * z), z, {.create_graph = true});  // 3z^2 + 2z
    CHECK(dz.item() == doctest::Approx(1.75));
    CHECK(grad(dz, z).item() == doctest::Approx(5.0));  // 6z + 2
  }

  TEST_CASE("donated gradients: a backward writes into its gradient only when nobody else can see it") {
    // Note [donated gradients]: relu's and channel_normalize's backward reuse the
    // incoming gradient's storage when it is dead afterwards. A gradient the caller
    // asked for (a target) is not dead, and must come back whole.
    TapeScope scope;
    Tensor x = from_vector(std::vector<double>{-1.0, 2.0, -3.0, 4.0, 0.5, -0.5}, {3, 2}).requires_grad_();
    const Tensor c = from_vector(std::vector<double>{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2});
    const Tensor h = x * 2.0, y = relu(h);
    const Tensor z = channel_normalize(y, ones({2}, DType::F64), zeros({2}, DType::F64), 1e-5);
    const auto g = grad({sum(z * c)}, {z, y, x});
    CHECK(g[0].to_vector<double>() == c.to_vector<double>());  // z's gradient, not overwritten by channel_normalize's
    // y's gradient (relu's incoming one) is a target too: relu's mask must not have
    // zeroed it. Compare with a sweep that asks for y alone.
    TapeScope again;
    const Tensor y2 = relu(x * 2.0);
    const Tensor z2 = channel_normalize(y2, ones({2}, DType::F64), zeros({2}, DType::F64), 1e-5);
    const Tensor gy = grad(sum(z2 * c), y2);
    CHECK(g[1].to_vector<double>() == gy.to_vector<double>());
    for (std::int64_t i = 0; i < 3; ++i)
      for (std::int64_t j = 0; j < 2; ++j)
        CHECK(g[2].at({i, j}) == doctest::Approx(h.at({i, j}) > 0 ? 2.0 * gy.at({i, j}) : 0.0).epsilon(1e-12));
  }

  TEST_CASE("grad_outputs weight non-scalar outputs") {
    TapeScope scope;
    Tensor x = vec({1.0, 2.0, 3.0}).requires_grad_();
    const Tensor y = x * x;
    const auto g = grad({y}, {x}, {.grad_outputs = {vec({1.0, 0.0, -1.0})}});
    CHECK(g[0].to_vector<double>() == std::vector<double>{2.0, 0.0, -6.0});
  }

  TEST_CASE("several outputs and inputs in one sweep") {
    TapeScope scope;
    Tensor a = vec({1.5}).requires_grad_();
    Tensor b = vec({-0.5}).requires_grad_();
    const auto g = grad({sum(a * b), sum(a)}, {a, b});
    CHECK(g[0].item() == doctest::Approx(-0.5 + 1.0));
    CHECK(g[1].item() == doctest::Approx(1.5));
  }

  TEST_CASE("gradient with respect to an intermediate result") {
    TapeScope scope;
    Tensor x = vec({0.7}).requires_grad_();
    const Tensor h = exp(x);
    const auto g = grad({sum(h * h)}, {h, x});
    CHECK(g[0].item() == doctest::Approx(2 * std::exp(0.7)));
    CHECK(g[1].item() == doctest::Approx(2 * std::exp(1.4)));
  }

  TEST_CASE("allow_unused returns an undefined gradient for an unused input") {
    TapeScope scope;
    Tensor x = vec({1.0}).requires_grad_();
    Tensor unused = vec({1.0}).requires_grad_();
    const auto g = grad({sum(x * x)}, {x, unused}, {.allow_unused = true});
    CHECK(g[0].defined());
    CHECK_FALSE(g[1].defined());
  }

  TEST_CASE("create_graph makes gradients differentiable; without it they are plain") {
    TapeScope scope;
    Tensor x = vec({0.5}).requires_grad_();
    const Tensor y = sum(x * x * x);
    const Tensor g = grad(y, x, {.create_graph = true});
    CHECK(g.requires_grad());
    CHECK(grad(sum(g), x).item() == doctest::Approx(6 * 0.5));
    const Tensor plain = grad(sum(x * x * x), x);
    CHECK_FALSE(plain.requires_grad());
  }

  TEST_CASE("backward accumulates into leaves, zero_grad clears") {
    TapeScope scope;
    Tensor w = vec({1.0, -2.0}).requires_grad_();
    Tensor data = vec({3.0, 4.0});
    backward(sum(w * data));
    CHECK(w.grad().to_vector<double>() == std::vector<double>{3.0, 4.0});
    backward(sum(w * data));
    CHECK(w.grad().to_vector<double>() == std::vector<double>{6.0, 8.0});
    CHECK_FALSE(data.grad().defined());
    w.zero_grad();
    CHECK_FALSE(w.grad().defined());
  }

  TEST_CASE("backward with a grad_output seed") {
    TapeScope scope;
    Tensor w = vec({1.0, 2.0}).requires_grad_();
    backward(w * w, vec({1.0, 10.0}));
    CHECK(w.grad().to_vector<double>() == std::vector<double>{2.0, 40.0});
  }

  TEST_CASE("no-grad guard records nothing; detach cuts the graph") {
    TapeScope scope;
    Tensor x = vec({1.0}).requires_grad_();
    const std::int32_t before = Tape::current().size();
    {
      NoGradGuard off;
      CHECK_FALSE(grad_enabled());
      const Tensor y = x * x;
      CHECK_FALSE(y.requires_grad());
      {
        EnableGradGuard on;
        CHECK(grad_enabled());
      }
      CHECK_FALSE(grad_enabled());
    }
    CHECK(Tape::current().size() == before);
    const Tensor d = (x * x).detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    CHECK_THROWS_WITH_AS(grad(sum(d * d), x), doctest::Contains("output 0 does not require grad"), GradError);
  }

  TEST_CASE("grad of a gradient taken without create_graph says to pass create_graph") {
    TapeScope scope;
    Tensor x = from_vector(std::vector<double>{1, 2}, {2}).requires_grad_();
    const Tensor loss = sum(x * x * x);
    const std::string hint =
        "grad: output 0 does not require grad: it was computed from gradients that grad() returned without "
        "create_graph, which have no graph; pass {.create_graph = true} to that grad() call (create_graph = true "
        "to backward()) to differentiate them again";
    const std::vector<Tensor> g = grad({loss}, {x});
    CHECK_THROWS_WITH_AS(grad(dot(g, g), x), hint.c_str(), GradError);  // a quantity made from it
    CHECK_THROWS_WITH_AS(grad(sum(g[0]), x), hint.c_str(), GradError);
    CHECK_THROWS_WITH_AS(grad(g[0], x, {.grad_outputs = {ones({2}, DType::F64)}}), hint.c_str(), GradError);
    backward(loss);
    CHECK_THROWS_WITH_AS(grad(sum(x.grad() * x.grad()), x), hint.c_str(), GradError);
    // With create_graph the same lines differentiate: d/dx sum((3x^2)^2) = 36 x^3.
    const std::vector<Tensor> gg = grad({loss}, {x}, {.create_graph = true});
    CHECK(grad(dot(gg, gg), x).to_vector<double>() == std::vector<double>{36, 288});
    // Values that merely do not require grad keep the plain message.
    CHECK_THROWS_WITH_AS(grad(sum(x.detach() * 2.0), x),
                         "grad: output 0 does not require grad: no recorded op connects it to a tensor that "
                         "requires grad",
                         GradError);
  }

  TEST_CASE("the gradient of a leaf with respect to itself is one") {
    TapeScope scope;
    Tensor x = scalar(3.0, DType::F64).requires_grad_();
    CHECK(grad(x, x).item() == 1.0);
  }

  TEST_CASE("errors name what is wrong") {
    TapeScope scope;
    Tensor x = from_vector(std::vector<double>(8, 1.0), {8, 1}).requires_grad_();
    const Tensor y = x * x;
    CHECK_THROWS_WITH_AS(grad(y, x), "grad: output must be a scalar, got [8, 1]; pass grad_outputs for non-scalar outputs",
                         GradError);
    CHECK_THROWS_WITH_AS(grad({y}, {x}, {.grad_outputs = {vec({1.0})}}),
                         doctest::Contains("grad: grad_outputs[0] is [1], output is [8, 1]"), GradError);
    CHECK_THROWS_WITH_AS(grad({y}, {x}, {.grad_outputs = {vec({1.0}), vec({1.0})}}),
                         doctest::Contains("grad: 2 grad_outputs for 1 outputs"), GradError);
    CHECK_THROWS_WITH_AS(grad({y}, {x}, {.grad_outputs = {ones({8, 1}, DType::F32)}}),
                         doctest::Contains("grad: mixed dtypes: a is f64, b is f32"), DTypeError);
    Tensor other = vec({1.0}).requires_grad_();
    CHECK_THROWS_WITH_AS(grad(sum(y), other), doctest::Contains("grad: input 0 is not reachable from the outputs"),
                         GradError);
    CHECK_THROWS_WITH_AS(grad({}, {x}), doctest::Contains("grad: no outputs given"), GradError);
    CHECK_THROWS_WITH_AS(grad({Tensor{}}, {x}), doctest::Contains("grad: output 0 is undefined"), GradError);
    CHECK_THROWS_WITH_AS(grad({sum(y)}, {Tensor{}}), doctest::Contains("grad: input 0 is undefined"), GradError);
    CHECK_THROWS_WITH_AS(add(x, ones({8, 1}, DType::F32)), doctest::Contains("add: mixed dtypes: a is f64, b is f32"),
                         DTypeError);
    CHECK_THROWS_WITH_AS(add(x, Tensor{}), doctest::Contains("add: operand b is an undefined tensor"), ValueError);
  }

  TEST_CASE("requires_grad_ is for leaves of a floating type") {
    TapeScope scope;
    Tensor x = vec({1.0}).requires_grad_();
    Tensor y = x * x;
    CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("requires_grad_: only leaves can be marked"), GradError);
    Tensor labels = from_vector(std::vector<std::int64_t>{1}, {1});
    CHECK_THROWS_WITH_AS(labels.requires_grad_(), doctest::Contains("requires_grad_: dtype i64 cannot require grad"),
                         DTypeError);
  }

  TEST_CASE("a saved tensor modified in place is refused") {
    TapeScope scope;
    Tensor w = vec({1.0, 2.0}).requires_grad_();
    Tensor data = vec({3.0, 4.0});
    const Tensor y = sum(w * data);
    data.set({0}, 5.0);
    CHECK_THROWS_WITH_AS(grad(y, w), doctest::Contains("mul: a tensor saved for backward was modified in place"),
                         GradError);
  }

  TEST_CASE("a write through mutable_data between forward and backward is refused; reads are not") {
    TapeScope scope;
    Tensor w = vec({1.0, 2.0}).requires_grad_();
    Tensor data = vec({3.0, 4.0});
    const Tensor y = sum(w * data);
    const std::uint32_t saved = data.version();
    CHECK(data.data<double>()[0] == 3.0);  // a read through the non-const handle
    CHECK(data.version() == saved);
    const Tensor dw = grad(y, w);  // unharmed by the read
    CHECK(dw.at({0}) == 3.0);
    const Tensor y2 = sum(w * data);
    data.mutable_data<double>()[0] = 5.0;  // behind the tape's back
    CHECK_THROWS_WITH_AS(grad(y2, w),
                         fmt::format("mul: a tensor saved for backward was modified in place (version {} at save, now "
                                     "{}); do in-place updates under NoGradGuard after grad(), or clone() first",
                                     saved, saved + 1)
                             .c_str(),
                         GradError);
    const Tensor y3 = sum(w * data);
    static_cast<double*>(data.mutable_raw_data())[1] = 6.0;
    CHECK_THROWS_WITH_AS(grad(y3, w), doctest::Contains("mul: a tensor saved for backward was modified in place"),
                         GradError);
  }

  TEST_CASE("one tape per thread: tasks on two threads record independently") {
    std::vector<double> results(2);
    auto task = [&results](int i) {
      TapeScope scope;
      Tensor x = scalar(1.0 + i, DType::F64).requires_grad_();
      results[static_cast<std::size_t>(i)] = grad(x * x * x, x).item();
    };
    std::thread t0(task, 0), t1(task, 1);
    t0.join();
    t1.join();
    CHECK(results[0] == doctest::Approx(3.0));
    CHECK(results[1] == doctest::Approx(12.0));
  }

  TEST_CASE("a result recorded on another thread's tape is refused") {
    TapeScope scope;
    Tensor x = scalar(1.0, DType::F64).requires_grad_();
    Tensor y = x * x;
    std::string message;
    std::thread other([&] {
      try {
        (void)(y * y);
      } catch (const TapeError& e) {
        message = e.what();
      }
    });
    other.join();
    CHECK(message.find("mul: tensor was recorded on another thread's tape") != std::string::npos);
  }
}
