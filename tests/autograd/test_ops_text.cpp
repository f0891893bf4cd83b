// Text ops (autograd/ops_text.cpp): the embedding bag pair, each the other's
// backward, and conv1d over conv2d. Bags repeat ids and hold pads on purpose,
// so the scatter has to accumulate and the mean has to skip.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "autograd/text.h"
#include "autograd/vision.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace text_ops_test {

// Three bags over a table of 6 rows: a repeat, a bag of pads only, one of two ids.
Tensor bag_ids() { return i64({1, 2, 2, 0, 0, 0, 0, 0, 5, 3, 0, 0}, {3, 4}); }

Inputs with_ids(const std::vector<Shape>& shapes, const Tensor& ids) {
  Inputs x = f64_leaves(shapes);
  x.push_back(ids);
  return x;
}

const int kTextCases = register_cases({
    {"embedding_bag", "repeats, pads and an empty bag", [](const Inputs& x) { return embedding_bag(x[0], x[1]); },
     [] { return with_ids({{6, 3}}, bag_ids()); }},
    {"embedding_bag_scatter", "repeats, pads and an empty bag",
     [](const Inputs& x) { return embedding_bag_scatter(x[0], x[1], 6); },
     [] { return with_ids({{3, 2}}, bag_ids()); }},
    {"conv1d", "bias, padding 1", [](const Inputs& x) { return conv1d(x[0], x[1], x[2], 1); },
     [] { return f64_leaves({{2, 3, 7}, {4, 3, 3}, {4}}); }},
    {"conv1d", "no bias, width 2", [](const Inputs& x) { return conv1d(x[0], x[1]); },
     [] { return f64_leaves({{2, 2, 5}, {3, 2, 2}}); }},
});

}  // namespace text_ops_test

TEST_SUITE("ops") {
  TEST_CASE("embedding_bag and its scatter of known tensors") {
    const Tensor table = f64({0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 50}, {6, 2});
    // Bag 0: rows 1, 2, 2 -> (1 + 2 + 2) / 3; bag 1: pads only -> 0; bag 2: rows 5, 3 -> (5 + 3) / 2.
    check_values(embedding_bag(table, text_ops_test::bag_ids()), {3, 2},
                 {5.0 / 3, 50.0 / 3, 0, 0, 4, 40});
    const Tensor g = f64({3, 6, 100, 100, 2, 4}, {3, 2});
    // Row 1 gets g0 / 3, row 2 twice g0 / 3, rows 3 and 5 g2 / 2; bag 1 and pad row 0 nothing.
    check_values(embedding_bag_scatter(g, text_ops_test::bag_ids(), 6), {6, 2},
                 {0, 0, 1, 2, 2, 4, 1, 2, 0, 0, 1, 2});
  }

  TEST_CASE("embedding_bag is the masked mean of index_select") {
    const Tensor table = f64_leaves({{6, 3}})[0];
    const Tensor ids = i64({4, 1, 0, 3, 3, 3}, {2, 3});
    const Tensor rows = reshape(index_select(table, 0, reshape(ids, {6})), {2, 3, 3});
    const Tensor mask = f64({1, 1, 0, 1, 1, 1}, {2, 3, 1});
    const Tensor want = sum(rows * mask, {1}) / f64({2, 3}, {2, 1});
    check_close(embedding_bag(table, ids), want.to_vector<double>(), 1e-12);
  }

  TEST_CASE("conv1d is conv2d over images of height 1") {
    const Inputs x = f64_leaves({{2, 3, 6}, {2, 3, 3}, {2}});
    const Tensor want = conv2d(reshape(x[0], {2, 3, 1, 6}), reshape(x[1], {2, 3, 1, 3}), x[2], 1, Size2(0, 1));
    const Tensor got = conv1d(x[0], x[1], x[2], 1);
    CHECK(got.shape() == Shape{2, 2, 6});
    check_close(got, want.to_vector<double>(), 1e-12);
    // One output by hand: filter 0 at position 0 reads the pad, then x[., ., 0] and x[., ., 1].
    double y = x[2].to_vector<double>()[0];
    const auto xv = x[0].to_vector<double>();
    const auto wv = x[1].to_vector<double>();
    for (int c = 0; c < 3; ++c) y += wv[c * 3 + 1] * xv[c * 6] + wv[c * 3 + 2] * xv[c * 6 + 1];
    CHECK(got.to_vector<double>()[0] == doctest::Approx(y).epsilon(1e-12));
  }

  TEST_CASE("text ops run in float32") {
    for (const char* op : {"embedding_bag", "embedding_bag_scatter", "conv1d"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("text op errors") {
    const Tensor table = zeros({4, 2});
    CHECK_THROWS_WITH_AS(embedding_bag(table, zeros({1, 2})), "embedding_bag: ids must be i64, got f32", DTypeError);
    CHECK_THROWS_WITH_AS(embedding_bag(table, i64({1, 2}, {2})),
                         "embedding_bag: ids must be [n, L] and table [V, D]: table is [4, 2], ids is [2]", ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag(table, i64({1, 4}, {1, 2})), "embedding_bag: id 4 is out of range [0, 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag(table, i64({-1}, {1, 1})), "embedding_bag: id -1 is out of range [0, 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag(i64({1}, {1, 1}), i64({0}, {1, 1})), "embedding_bag: dtype i64 is not supported",
                         DTypeError);
    CHECK_THROWS_WITH_AS(embedding_bag_scatter(zeros({3, 2}), i64({1, 2}, {2, 1}), 4),
                         "embedding_bag_scatter: ids must be [n, L] and grad [n, D]: grad is [3, 2], ids is [2, 1]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag_scatter(zeros({1, 2}), i64({7}, {1, 1}), 4),
                         "embedding_bag_scatter: id 7 is out of range [0, 4)", ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag_scatter(zeros({1, 2}), i64({0}, {1, 1}), -1),
                         "embedding_bag_scatter: rows must be >= 0, got -1", ShapeError);
    CHECK_THROWS_WITH_AS(embedding_bag_scatter(zeros({1, 2}), zeros({1, 1}), 4),
                         "embedding_bag_scatter: ids must be i64, got f32", DTypeError);
    CHECK_THROWS_WITH_AS(conv1d(zeros({2, 3}), zeros({1, 3, 2})),
                         "conv1d: x must be [N, C, L] and weight [F, C, k]: x is [2, 3], weight is [1, 3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv1d(zeros({2, 3, 5}), zeros({1, 2, 2})),
                         "conv1d: channels differ: x is [2, 3, 5], weight is [1, 2, 2] (3 != 2)", ShapeError);
  }
}
