// metalearn graph (tools/graph.h): the DOT of one MAML meta-step has the nodes the
// algorithm implies, first and second order differ exactly in the recorded inner
// gradient, k steps give k boxes, Graphviz draws it, and every error is clear.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "autograd/errors.h"
#include "tests/temp_dir.h"
#include "tools/graph.h"

namespace graph_test {

// The nodes of a tape_dot graph, by kind, and per cluster (its label; "" outside any).
struct Census {
  int leaves = 0, ops = 0, filled = 0, edges = 0;
  std::map<std::string, int> per_cluster;          // every node
  std::map<std::string, int> filled_per_cluster;   // the create-graph nodes
};

Census census(const std::string& dot) {
  Census c;
  std::istringstream in(dot);
  std::string line, cluster;
  for (bool in_cluster = false; std::getline(in, line);) {
    if (line.find("subgraph cluster_") != std::string::npos) in_cluster = true;
    if (in_cluster && line.starts_with("  label=\"")) cluster = line.substr(9, line.rfind('"') - 9);
    if (line == "  }") in_cluster = false, cluster.clear();
    if (line.find(" -> ") != std::string::npos) ++c.edges;
    if (line.find("label=\"%") == std::string::npos) continue;
    ++c.per_cluster[cluster];
    if (line.find("shape=box") != std::string::npos) {
      ++c.leaves;
      continue;
    }
    ++c.ops;
    if (line.find("style=filled") != std::string::npos) ++c.filled, ++c.filled_per_cluster[cluster];
  }
  return c;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace graph_test

using graph_test::census;
using mg::tools::GraphRequest;
using mg::tools::maml_step_dot;
using mg::tools::run_graph;

TEST_SUITE("tools") {
  TEST_CASE("graph: node counts of a 1-3-1 MLP's MAML meta-step, first vs second order, 1 vs 2 steps") {
    // The model has P = 4 parameter tensors (two weights, two biases). One pass of
    // the model and its MSE is F = 9 ops: matmul, add, relu, matmul, add | sub, mul,
    // sum, mul_scalar. The query pass is one such pass.
    constexpr int kParams = 4, kForward = 9;
    const auto fo1 = census(maml_step_dot({.algo = "fomaml", .inner_steps = 1}));
    const auto so1 = census(maml_step_dot({.algo = "maml", .inner_steps = 1}));
    const auto so2 = census(maml_step_dot({.algo = "maml", .inner_steps = 2}));
    const auto fo2 = census(maml_step_dot({.algo = "fomaml", .inner_steps = 2}));
    for (const auto* c : {&fo1, &so1, &so2, &fo2}) {
      CHECK(c->leaves == kParams);  // θ, bound once, outside the boxes
      CHECK(c->per_cluster.at("") == kParams);
      CHECK(c->per_cluster.at("query loss") == kForward);
    }
    // First order: each step's forward is rewound once its g is known (meta/adapt.cpp), so
    // a step leaves θ − α·g, where g is a constant: one sub per tensor.
    CHECK(fo1.filled == 0);
    CHECK(fo1.ops == kParams + kForward);
    CHECK(fo2.ops == 2 * kParams + kForward);
    // Second order: the inner backward is recorded (filled; B = 11 ops: the MSE's and two
    // Linear layers' and the ReLU's backward formulas), and α·g is an op of its own.
    constexpr int kBackward = 11;
    CHECK(so1.filled == kBackward);
    CHECK(so1.ops == kForward + kBackward + 2 * kParams + kForward);
    CHECK(so1.ops - fo1.ops == kForward + so1.filled + kParams);
    // Two steps: two boxes, each with its own recorded backward.
    CHECK(so2.per_cluster.size() == 4);  // θ, inner step 1, inner step 2, query loss
    CHECK(so2.filled_per_cluster.at("inner step 1") == kBackward);
    CHECK(so2.filled_per_cluster.at("inner step 2") == kBackward);
    CHECK(so2.per_cluster.at("inner step 2") == kForward + kBackward + 2 * kParams);
    CHECK(fo2.per_cluster.count("inner step 2") == 1);
    CHECK(so1.per_cluster.count("inner step 2") == 0);
    // The hidden width changes shapes, not the number of nodes.
    CHECK(census(maml_step_dot({.algo = "maml", .hidden = 7})).ops == so1.ops);
    CHECK(maml_step_dot({.hidden = 7}).find("relu [2, 7]") != std::string::npos);
  }

  TEST_CASE("graph: run_graph writes the DOT and Graphviz draws it as SVG") {
    mg::test::TempDir dir;
    const GraphRequest request{.inner_steps = 2, .out = dir.file("g.dot"), .svg = dir.file("g.svg")};
    run_graph(request);
    CHECK(graph_test::read_all(request.out) == maml_step_dot(request));
    const std::string svg = graph_test::read_all(request.svg);
    CHECK(svg.find("<svg") != std::string::npos);
    // Graphviz titles each node and cluster with its DOT name: all 69 nodes, 3 boxes.
    const auto c = census(maml_step_dot(request));
    int drawn = 0;
    for (std::size_t at = svg.find("class=\"node\""); at != std::string::npos; at = svg.find("class=\"node\"", at + 1))
      ++drawn;
    CHECK(drawn == c.leaves + c.ops);
    CHECK(svg.find("inner step 2") != std::string::npos);
    CHECK(svg.find("query loss") != std::string::npos);
  }

  TEST_CASE("graph: the README's picture (docs/maml_1_step.svg) is what metalearn graph draws today") {
    // Regenerate with: metalearn graph --algo maml --inner-steps 1 --out /tmp/m.dot --svg docs/maml_1_step.svg
    const auto page = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "docs" / "maml_1_step.svg";
    const std::string svg = graph_test::read_all(page.string());
    REQUIRE_MESSAGE(!svg.empty(), "cannot read ", page.string());
    const std::string dot = maml_step_dot({.algo = "maml", .inner_steps = 1});
    // Every node label of today's DOT ("%13 mul [2, 1]") appears in the picture, and no other.
    int labels = 0;
    for (auto at = dot.find("label=\"%"); at != std::string::npos; at = dot.find("label=\"%", at + 1), ++labels) {
      const std::string text = dot.substr(at + 7, dot.find('"', at + 7) - at - 7);
      CHECK_MESSAGE(svg.find(">" + text + "</text>") != std::string::npos, text);
    }
    int drawn = 0;
    for (auto at = svg.find("class=\"node\""); at != std::string::npos; at = svg.find("class=\"node\"", at + 1))
      ++drawn;
    CHECK(drawn == labels);
  }

  TEST_CASE("graph: errors") {
    CHECK_THROWS_WITH_AS(maml_step_dot({.algo = "reptile"}), "graph: --algo must be maml or fomaml, got 'reptile'",
                         mg::ValueError);
    CHECK_THROWS_WITH_AS(maml_step_dot({.inner_steps = 0}), "graph: --inner-steps must be >= 1, got 0", mg::ValueError);
    CHECK_THROWS_WITH_AS(maml_step_dot({.hidden = 0}), "graph: --hidden must be >= 1, got 0", mg::ValueError);
    mg::test::TempDir dir;
    const std::string dot = dir.file("g.dot"), svg = dir.file("g.svg");
    const std::string folder = dir.path().string();
    CHECK_THROWS_WITH_AS(run_graph({.out = folder}),
                         ("graph: --out " + folder + ": is a folder; expected a file").c_str(), mg::DataError);
    CHECK_THROWS_WITH_AS(run_graph({.out = dot, .svg = folder}),
                         ("graph: --svg " + folder + ": is a folder; expected a file").c_str(), mg::DataError);
    CHECK_THROWS_WITH_AS(run_graph({.out = dir.file("none/g.dot")}),
                         doctest::Contains(("write_text_file: cannot write " + dir.file("none/g.dot")).c_str()),
                         mg::DataError);
    CHECK_THROWS_WITH_AS(run_graph({.out = dot, .svg = svg, .dot_program = "metagrad-no-such-dot"}),
                         "graph: --svg needs Graphviz: 'metagrad-no-such-dot' is not on PATH (Debian: apt install "
                         "graphviz)",
                         mg::DataError);
    CHECK(graph_test::read_all(dot) == maml_step_dot({}));  // the DOT is written before dot runs
    CHECK_THROWS_WITH_AS(run_graph({.out = dot, .svg = svg, .dot_program = "false"}),
                         ("graph: 'false -Tsvg' failed (status 1); " + svg + " was not written").c_str(),
                         mg::DataError);
    // A program that exists but cannot be run (not executable).
    const std::string not_executable = dir.file("dot");
    std::ofstream(not_executable) << "not a program\n";
    ::chmod(not_executable.c_str(), 0644);
    CHECK_THROWS_WITH_AS(run_graph({.out = dot, .svg = svg, .dot_program = not_executable}),
                         ("graph: cannot run '" + not_executable + "': Permission denied").c_str(), mg::DataError);
  }
}
