#include <doctest/doctest.h>

#include <set>
#include <stdexcept>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "datasets/task.h"

using namespace mg;
using namespace mg::data;

namespace {

// The custom task family of task.h's header comment: lines y = a·x + b.
class LineTasks : public mg::data::TaskSource {
 public:
  explicit LineTasks(std::uint64_t seed) : seed_(seed) {}
  mg::data::Task sample(std::uint64_t task_index) const override {
    mg::Generator gen = mg::data::task_generator(seed_, task_index);
    const double a = gen.uniform(-1, 1), b = gen.uniform(-1, 1);
    auto points = [&](int n, mg::Tensor& x, mg::Tensor& y) {
      x = mg::uniform({n, 1}, -5, 5, gen);
      y = mg::Tensor(x.shape(), mg::DType::F32);
      for (int i = 0; i < n; ++i) y.mutable_data<float>()[i] = float(a * x.data<float>()[i] + b);
    };
    mg::data::Task task;
    points(5, task.support_x, task.support_y);
    points(10, task.query_x, task.query_y);
    return task;
  }

 private:
  std::uint64_t seed_;
};

// Fails for some task indices, to test error propagation.
class Flaky : public TaskSource {
 public:
  Task sample(std::uint64_t task_index) const override {
    if (task_index == 13 || task_index == 17) throw DataError("flaky: task " + std::to_string(task_index));
    return Task{scalar(static_cast<double>(task_index)), {}, {}, {}};
  }
};

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace

TEST_SUITE("datasets_tasks") {
  TEST_CASE("task_generator is a pure function of (seed, index) and separates streams") {
    CHECK(task_generator(3, 7).next_u64() == task_generator(3, 7).next_u64());
    std::set<std::uint64_t> firsts;
    for (std::uint64_t seed = 0; seed < 4; ++seed)
      for (std::uint64_t i = 0; i < 64; ++i) firsts.insert(task_generator(seed, i).next_u64());
    CHECK(firsts.size() == 4 * 64);
  }

  TEST_CASE("a custom task family plugs in with ~20 lines (the example of task.h)") {
    const LineTasks lines(7);
    const Task t = lines.sample(3);
    CHECK(t.support_x.shape() == Shape{5, 1});
    CHECK(t.query_y.shape() == Shape{10, 1});
    // All points of a task lie on one line.
    const auto x = t.support_x.to_vector<double>(), y = t.support_y.to_vector<double>();
    const double a = (y[1] - y[0]) / (x[1] - x[0]), b = y[0] - a * x[0];
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == doctest::Approx(a * x[i] + b).epsilon(1e-4));
    // Meta-step s with batch size B: tasks s·B … s·B + B − 1.
    const std::vector<Task> batch = sample_tasks(lines, 2 * 8, 8);
    REQUIRE(batch.size() == 8);
    CHECK(same(batch[3].support_x, lines.sample(19).support_x));
  }

  TEST_CASE("Task::to converts x and regression y, and keeps int64 labels") {
    const Task t{zeros({2, 1}), from_vector(std::vector<std::int64_t>{0, 1}, {2}), ones({3, 1}), ones({3, 1})};
    const Task d = t.to(DType::F64);
    CHECK(d.support_x.dtype() == DType::F64);
    CHECK(d.support_y.dtype() == DType::I64);
    CHECK(d.query_x.dtype() == DType::F64);
    CHECK(d.query_y.to_vector<double>() == std::vector<double>{1, 1, 1});
    CHECK_FALSE(Task{.support_x = zeros({1})}.to(DType::F64).query_x.defined());
    CHECK_THROWS_WITH_AS(t.to(DType::I64), "Task::to: dtype i64 is not supported", DTypeError);
  }

  TEST_CASE("sample_tasks does not depend on the thread count") {
    const LineTasks lines(1);
    const std::vector<Task> one = sample_tasks(lines, 100, 13, 1);
    for (int threads : {2, 3, 0}) {
      const std::vector<Task> many = sample_tasks(lines, 100, 13, threads);
      REQUIRE(many.size() == 13);
      for (std::size_t i = 0; i < 13; ++i) {
        CHECK(same(one[i].support_x, many[i].support_x));
        CHECK(same(one[i].query_y, many[i].query_y));
      }
    }
    CHECK(sample_tasks(lines, 0, 0, 2).empty());
  }

  TEST_CASE("sample_tasks rethrows the error of the lowest failing task") {
    const Flaky flaky;
    for (int threads : {1, 2, 4}) {
      CHECK_THROWS_WITH_AS(sample_tasks(flaky, 10, 10, threads), doctest::Contains("flaky: task 13"), DataError);
    }
    CHECK(sample_tasks(flaky, 0, 13, 2)[12].support_x.item() == 12);
    CHECK_THROWS_WITH_AS(sample_tasks(flaky, 0, 1, -1), doctest::Contains("threads: must be >= 0"), ValueError);
  }
}

