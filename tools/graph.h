// metalearn graph: a picture of what one MAML meta-step records (issue 20, the
// teaching kit). One task of sinusoid regression, a 1-H-1 ReLU MLP, k inner SGD
// steps on a few support points and the query loss, drawn by mg::tape_dot
// (autograd/graph_export.h): each inner step in a box of its own ("inner step 1",
// …), the query pass in "query loss", and the nodes that the inner gradient's
// create_graph sweep recorded — the part that makes MAML second order — filled.
// First-order MAML records no such nodes: its inner gradients are constants.
//
// The meta-gradient sweep itself (grad of the query loss with respect to θ) is
// not drawn: MAML takes it without create_graph, so it records nothing.
#pragma once

#include <string>

namespace mg::tools {

struct GraphRequest {
  std::string algo = "maml";  // maml | fomaml
  int inner_steps = 1;        // k
  int hidden = 3;             // H, the MLP's hidden width
  std::string out = {};       // the DOT file
  std::string svg = {};       // optional: the SVG file, drawn by `dot -Tsvg`
  std::string dot_program = "dot";  // Graphviz's dot, looked up on PATH
};

// The DOT text of one meta-step as the request describes (`out` and `svg` are not
// read). ValueError for an algo other than maml or fomaml, k < 1 or H < 1.
std::string maml_step_dot(const GraphRequest& request);

// Writes maml_step_dot(request) to `out` and, when `svg` is set, runs
// `dot -Tsvg -o SVG OUT`. DataError for a path that cannot be written (tools/paths.h,
// tools/atomic_file.h), a dot that is not on PATH, or a dot that fails.
void run_graph(const GraphRequest& request);

}  // namespace mg::tools
