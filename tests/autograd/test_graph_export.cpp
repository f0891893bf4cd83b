// The tape as a Graphviz graph (autograd/graph_export.h): one MAML step on a linear
// model, its node kinds, edges, the second-order part and the labelled groups, drawn
// by Graphviz's `dot` (required when CI is set).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/graph_export.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

namespace {

// Occurrences of `what` in `text`.
int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The lines of `text` that hold every one of `parts`.
int lines_with(const std::string& text, const std::vector<std::string>& parts) {
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const std::string& p : parts) all = all && line.find(p) != std::string::npos;
    n += all;
  }
  return n;
}

}  // namespace

TEST_SUITE("graph_export") {
  TEST_CASE("one MAML step on a linear model: node kinds, edges, the second-order part, the groups") {
    TapeScope scope;
    const std::int32_t first = Tape::current().size();
    const Tensor w = from_vector(std::vector<double>{0.5, -0.3}, Shape{2, 1}).requires_grad_();
    const Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{3, 2});
    const Tensor y = from_vector(std::vector<double>{1, 0, -1}, Shape{3, 1});
    Tensor w1;
    {
      TapeLabel step("inner step 1");
      const Tensor g = grad({mse_loss(matmul(x, w), y)}, {w}, {.create_graph = true})[0];
      w1 = w - g * 0.1;
    }
    {
      TapeLabel query("query \"set\"");
      const Tensor loss = mse_loss(matmul(x, w1), y);
      CHECK(loss.requires_grad());
    }
    const std::string dot = tape_dot(first, {.title = "MAML, one step"});
    const Tape& tape = Tape::current();
    int edges = 0, second_order = 0;
    for (std::int32_t id = first; id < tape.size(); ++id) {
      const Node& n = tape.node(id);
      second_order += n.in_backward;
      for (std::uint32_t i = 0; i < n.num_inputs; ++i) edges += tape.input(n, i).node >= first;
    }
    CHECK(dot.rfind("digraph tape {", 0) == 0);
    CHECK(occurrences(dot, " -> ") == edges);
    CHECK(occurrences(dot, "label=\"%") == tape.size() - first);  // one drawn node per tape node
    // θ once; matmul three times: the support forward, dW = xᵀ G inside the inner
    // gradient (recorded, so filled), the query forward.
    CHECK(lines_with(dot, {"leaf [2, 1]", "shape=box"}) == 1);
    CHECK(lines_with(dot, {" matmul [3, 1]"}) == 2);
    CHECK(lines_with(dot, {" matmul [2, 1]", "style=filled"}) == 1);
    CHECK(second_order > 0);
    CHECK(occurrences(dot, "style=filled") == second_order);
    CHECK(occurrences(dot, "subgraph cluster_") == 2);
    CHECK(occurrences(dot, "label=\"inner step 1\"") == 1);
    CHECK(occurrences(dot, "label=\"query \\\"set\\\"\"") == 1);  // quotes escaped
    CHECK(occurrences(dot, "label=\"MAML, one step\"") == 1);
    CHECK(occurrences(tape_dot(first, {.shapes = false}), "[3, 1]") == 0);
    const std::string outside = fmt::format("tape_dot: first node -1 is outside the tape's {} nodes", tape.size());
    CHECK_THROWS_WITH_AS(tape_dot(-1), outside.c_str(), TapeError);

    // Graphviz draws it.
    if (std::system("command -v dot >/dev/null 2>&1") != 0) {
      if (std::getenv("CI") != nullptr) FAIL("Graphviz's dot is needed to check the drawing (apt-get install graphviz)");
      MESSAGE("Graphviz's dot is not installed: the drawing is not checked");
      return;
    }
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "metagrad_graph_export_test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "maml.dot") << dot;
    const std::string command = "dot -Tsvg '" + (dir / "maml.dot").string() + "' -o '" + (dir / "maml.svg").string() + "'";
    CHECK(std::system(command.c_str()) == 0);
    std::ifstream svg(dir / "maml.svg");
    const std::string drawn((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
    CHECK(drawn.find("<svg") != std::string::npos);
    CHECK(drawn.find("inner step 1") != std::string::npos);
    std::filesystem::remove_all(dir);
  }
}
