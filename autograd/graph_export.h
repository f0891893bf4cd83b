// Pictures of the tape: a Graphviz DOT graph of the nodes this thread recorded, for
// seeing what second-order MAML builds (issue 20, the teaching kit).
//
//   mg::TapeScope scope;
//   const std::int32_t first = mg::Tape::current().size();
//   { mg::TapeLabel l("inner step 1"); theta_1 = ...; }     // optional: groups nodes
//   loss = ...;
//   std::string dot = mg::tape_dot(first);               // `dot -Tsvg` draws it
//
// One graph node per tape node: leaves (θ) as boxes, ops as ellipses with their number,
// name and shape ("%12 matmul [10, 40]"); an edge from each input to the op that read
// it (constants are not drawn). Nodes recorded inside a grad(create_graph = true) sweep
// — the inner gradient that the meta-gradient differentiates again, what makes MAML
// second order — are filled; nodes recorded under a TapeLabel sit in a box with its name.
#pragma once

#include <cstdint>
#include <string>

namespace mg {

struct GraphOptions {
  std::string title = {};  // the graph's caption (default: none)
  bool shapes = true;      // the result's shape in each op's label
};

// The DOT text of this thread's tape from node `first` to the end. TapeError for a
// `first` outside [0, size].
std::string tape_dot(std::int32_t first = 0, const GraphOptions& options = {});

}  // namespace mg
