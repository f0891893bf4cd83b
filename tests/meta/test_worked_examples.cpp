// docs/worked_examples.md: the one-weight linear-regression MAML and Reptile updates.
// The page's table is the single source of the numbers: this test reads it, checks the
// closed form of every derived row against the inputs, and checks metagrad's MAML (second
// and first order) and Reptile against the same rows, all to 1e-12.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "autograd/creation.h"
#include "autograd/random.h"
#include "datasets/task.h"
#include "meta/maml.h"
#include "meta/objective.h"
#include "meta/reptile.h"
#include "nn/linear.h"

namespace worked_example_test {

// The rows "| `name` | value | how |" between the page's table markers.
std::map<std::string, double> read_table() {
  const auto page = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "docs" / "worked_examples.md";
  std::ifstream in(page);
  REQUIRE_MESSAGE(in.good(), "cannot open ", page.string());
  std::map<std::string, double> rows;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("<!-- worked-example-table")) inside = true;
    if (line.starts_with("<!-- end worked-example-table")) inside = false;
    if (!inside || !line.starts_with("| `")) continue;
    const auto name_end = line.find('`', 3);
    const auto value_begin = line.find("| ", name_end) + 2;
    const auto value_end = line.find(" |", value_begin);
    rows[line.substr(3, name_end - 3)] = std::stod(line.substr(value_begin, value_end - value_begin));
  }
  return rows;
}

// A scalar as a [1, 1] float64 tensor (one point, one feature).
mg::Tensor point(double v) { return mg::full({1, 1}, v, mg::DType::F64); }

class OneTask : public mg::data::TaskSource {
 public:
  explicit OneTask(mg::data::Task task) : task_(std::move(task)) {}
  mg::data::Task sample(std::uint64_t) const override { return task_; }

 private:
  mg::data::Task task_;
};

// y = w·x: one weight, no bias.
mg::nn::Linear one_weight_model(double w) {
  mg::Generator gen(0);
  mg::nn::Linear model(1, 1, gen, /*bias=*/false, mg::DType::F64);
  model.weight().mutable_data<double>()[0] = w;
  return model;
}

}  // namespace worked_example_test

TEST_SUITE("maml") {
  TEST_CASE("worked example: closed-form MAML, first-order MAML and Reptile on y = w x match the docs") {
    const auto t = worked_example_test::read_table();
    REQUIRE(t.size() == 17);
    const double w = t.at("w"), alpha = t.at("alpha"), epsilon = t.at("epsilon");
    const double x_s = t.at("x_s"), y_s = t.at("y_s"), x_q = t.at("x_q"), y_q = t.at("y_q");
    constexpr double kTol = 1e-12;

    // The closed form, step by step as the page writes it.
    const double r_s = w * x_s - y_s, g_s = 2 * x_s * r_s, w_prime = w - alpha * g_s;
    const double h_s = 2 * x_s * x_s, factor = 1 - alpha * h_s;
    const double r_q = w_prime * x_q - y_q, g_q = 2 * x_q * r_q;
    CHECK(std::abs(r_s - t.at("r_s")) < kTol);
    CHECK(std::abs(g_s - t.at("g_s")) < kTol);
    CHECK(std::abs(w_prime - t.at("w_prime")) < kTol);
    CHECK(std::abs(h_s - t.at("h_s")) < kTol);
    CHECK(std::abs(factor - t.at("factor")) < kTol);
    CHECK(std::abs(r_q - t.at("r_q")) < kTol);
    CHECK(std::abs(g_q - t.at("g_q")) < kTol);
    CHECK(std::abs(factor * g_q - t.at("maml")) < kTol);
    CHECK(std::abs(g_q - t.at("fomaml")) < kTol);
    CHECK(std::abs(w + epsilon * (w_prime - w) - t.at("reptile_w")) < kTol);

    // metagrad: the same task through the library.
    using worked_example_test::point;
    const mg::data::Task task{point(x_s), point(y_s), point(x_q), point(y_q)};
    auto model = worked_example_test::one_weight_model(w);
    const std::vector<mg::Tensor> theta = {point(w)};
    const auto maml = mg::meta::maml_meta_gradient(model, mg::meta::regression(), theta, task,
                                                   {.inner_lr = alpha, .inner_steps = 1});
    const auto fomaml = mg::meta::maml_meta_gradient(model, mg::meta::regression(), theta, task,
                                                     {.inner_lr = alpha, .inner_steps = 1, .first_order = true});
    CHECK(std::abs(maml[0].data<double>()[0] - t.at("maml")) < kTol);
    CHECK(std::abs(fomaml[0].data<double>()[0] - t.at("fomaml")) < kTol);

    mg::meta::Reptile reptile(model, mg::meta::regression(),
                              {.inner_lr = alpha, .inner_steps = 1, .inner_optimizer = mg::meta::InnerOptimizer::Sgd,
                               .epsilon = epsilon, .meta_batch = 1, .threads = 1, .task_stacks = 0});
    reptile.train(worked_example_test::OneTask(task), 1);
    CHECK(std::abs(model.weight().data<double>()[0] - t.at("reptile_w")) < kTol);
  }
}
