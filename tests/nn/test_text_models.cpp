// Text layers and models (nn/text_layers.h, nn/text_models.h): shapes, the two
// forwards, gradients of first and second order through whole models, and the
// count path's closed form after one inner step (Note [The count path]).
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "nn/text_layers.h"
#include "nn/text_models.h"

using namespace mg;
using namespace mg::nn;

namespace text_models_test {

// Four texts over 9 ids, padded with 0; text 3 repeats id 4.
Tensor some_ids() {
  return from_vector(std::vector<std::int64_t>{1, 2, 3, 0, 0, 4, 5, 6, 7, 0, 8, 2, 0, 0, 0, 4, 4, 3, 1, 0}, {4, 5});
}

std::vector<std::string> names(const Module& m) {
  std::vector<std::string> out;
  for (const auto& t : m.named_parameters()) out.push_back(t.name);
  return out;
}

// gradcheck and gradgradcheck of params -> sum of squared logits, in float64.
void check_gradients(Module& model, const Tensor& ids) {
  const CheckedFunction f = [&model, ids](const std::vector<Tensor>& p) {
    const Tensor y = model.forward(ids, p);
    return sum(y * y);
  };
  const std::vector<Tensor> params = model.parameters();
  const CheckResult first = gradcheck(f, params);
  CHECK_MESSAGE(first.ok, first.message);
  const CheckResult second = gradgradcheck(f, params);
  CHECK_MESSAGE(second.ok, second.message);
}

}  // namespace text_models_test

TEST_SUITE("nn_text") {
  using text_models_test::some_ids;

  TEST_CASE("text_bag_model: shapes, names and the functional forward") {
    Generator gen(3);
    Sequential net = text_bag_model({.num_ids = 9, .dim = 6, .hidden = 5, .ways = 3}, gen);
    CHECK(text_models_test::names(net) ==
          std::vector<std::string>{"0.weight", "1.weight", "1.bias", "3.weight", "3.bias"});
    const Tensor y = net.forward(some_ids());
    CHECK(y.shape() == Shape{4, 3});
    // The functional form with the module's own tensors is the same function...
    const std::vector<Tensor> params = net.parameters();
    CHECK(net.forward(some_ids(), params).to_vector<float>() == y.to_vector<float>());
    // ...and reads the list, not the module: a different table changes the logits.
    std::vector<Tensor> other = params;
    other[0] = params[0] * 2.0;
    CHECK(net.forward(some_ids(), other).to_vector<float>() != y.to_vector<float>());
  }

  TEST_CASE("text_cnn: shapes, names, and texts shorter than the widest filter") {
    Generator gen(4);
    Sequential net = text_cnn({.num_ids = 9, .dim = 4, .filters = 3, .widths = {2, 4}, .ways = 5}, gen);
    CHECK(text_models_test::names(net) ==
          std::vector<std::string>{"0.weight", "1.weight2", "1.bias2", "1.weight4", "1.bias4", "2.weight", "2.bias"});
    CHECK(net.forward(some_ids()).shape() == Shape{4, 5});
    CHECK(net.forward(from_vector(std::vector<std::int64_t>{3}, {1, 1})).shape() == Shape{1, 5});
  }

  TEST_CASE("Embedding reads pads as zeros, channels first") {
    Generator gen(5);
    Embedding emb(4, 2, gen, DType::F64);
    const Tensor x = emb.forward(from_vector(std::vector<std::int64_t>{2, 0, 3}, {1, 3}));
    CHECK(x.shape() == Shape{1, 2, 3});
    const auto table = emb.parameters()[0].to_vector<double>();
    CHECK(x.to_vector<double>() == std::vector<double>{table[4], 0, table[6], table[5], 0, table[7]});
  }

  TEST_CASE("gradcheck and gradgradcheck through the text models (float64)") {
    Generator gen(6);
    Sequential bag = text_bag_model({.num_ids = 9, .dim = 3, .hidden = 4, .ways = 2, .dtype = DType::F64}, gen);
    text_models_test::check_gradients(bag, some_ids());
    Sequential counts = text_bag_model(
        {.num_ids = 9, .dim = 2, .hidden = 3, .ways = 2, .count_path = true, .dtype = DType::F64}, gen);
    CHECK(text_models_test::names(counts) == std::vector<std::string>{"0.0.0.weight", "0.0.1.weight", "0.0.1.bias",
                                                                    "0.0.3.weight", "0.0.3.bias", "0.1.weight",
                                                                    "0.1.scale"});
    text_models_test::check_gradients(counts, some_ids());
    Sequential cnn = text_cnn({.num_ids = 9, .dim = 2, .filters = 2, .widths = {1, 2}, .ways = 2,
                               .dtype = DType::F64}, gen);
    text_models_test::check_gradients(cnn, some_ids());
  }

  TEST_CASE("count_norm_scale: c / ||counts||") {
    const auto s = count_norm_scale(some_ids(), DType::F64).to_vector<double>();
    // Rows: 3 distinct ids; 4 distinct; 2 distinct; ids 4, 4, 3, 1 (counts 2, 1, 1).
    CHECK(s[0] == doctest::Approx(3 / std::sqrt(3.0)));
    CHECK(s[1] == doctest::Approx(2.0));
    CHECK(s[2] == doctest::Approx(std::sqrt(2.0)));
    CHECK(s[3] == doctest::Approx(4 / std::sqrt(6.0)));
    CHECK(count_norm_scale(from_vector(std::vector<std::int64_t>{0, 0}, {1, 2}), DType::F64).to_vector<double>() ==
          std::vector<double>{0.0});
  }

  TEST_CASE("the count path after one SGD step scores queries by the floor's class means") {
    // Support: rows 0 and 1 of class 0, rows 2 and 3 of class 1 (2-way 2-shot); step α on the mean
    // cross-entropy. Note [The count path]: query logit c = α s²/n Σᵢ (onehot(yᵢ) − 1/2)_c ⟨x̂_q, x̂ᵢ⟩.
    const double alpha = 0.5, s = 3.0;
    CountHead head(9, 2, s, DType::F64);
    const Tensor support = some_ids();
    const Tensor labels = from_vector(std::vector<std::int64_t>{0, 0, 1, 1}, {4});
    const std::vector<Tensor> theta = head.parameters();
    const Tensor loss = cross_entropy(head.forward(support, theta), labels);
    const std::vector<Tensor> g = grad({loss}, theta);
    const std::vector<Tensor> adapted = {theta[0] - alpha * g[0], theta[1]};
    const Tensor query = from_vector(std::vector<std::int64_t>{4, 2, 2, 3, 0}, {1, 5});
    const auto got = head.forward(query, adapted).to_vector<double>();
    // x̂ by hand: counts of each row over ids 1..8, divided by their norm.
    auto unit = [](const std::vector<double>& counts) {
      double n2 = 0;
      for (double c : counts) n2 += c * c;
      std::vector<double> out;
      for (double c : counts) out.push_back(c / std::sqrt(n2));
      return out;
    };
    const std::vector<std::vector<double>> xs = {unit({1, 1, 1, 0, 0, 0, 0, 0}), unit({0, 0, 0, 1, 1, 1, 1, 0}),
                                                 unit({0, 1, 0, 0, 0, 0, 0, 1}), unit({1, 0, 1, 2, 0, 0, 0, 0})};
    const std::vector<double> q = unit({0, 2, 1, 1, 0, 0, 0, 0});
    for (int c = 0; c < 2; ++c) {
      double want = 0;
      for (int i = 0; i < 4; ++i) {
        double dot = 0;
        for (int v = 0; v < 8; ++v) dot += q[v] * xs[i][v];
        want += ((i / 2 == c ? 1.0 : 0.0) - 0.5) * dot;
      }
      CHECK(got[c] == doctest::Approx(alpha * s * s / 4 * want).epsilon(1e-12));
    }
  }

  TEST_CASE("text layer and builder errors") {
    Generator gen(7);
    EmbeddingBag bag(5, 2, gen);
    CHECK_THROWS_WITH_AS(bag.forward(zeros({2, 3})),
                         "EmbeddingBag: input must be token ids, i64 [n, L]: got f32 [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(TextConv(2, 2, {}, gen), "TextConv: needs at least one width", ValueError);
    CHECK_THROWS_WITH_AS(TextConv(2, 2, {3, 0}, gen), "TextConv: widths must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(text_bag_model({.num_ids = 0}, gen), "text_bag_model: num_ids must be >= 1, got 0",
                         ValueError);
    CHECK_THROWS_WITH_AS(text_cnn({.num_ids = 4, .filters = 0}, gen), "text_cnn: filters must be >= 1, got 0",
                         ValueError);
  }
}
