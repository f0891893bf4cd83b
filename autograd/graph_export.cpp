// Graphviz DOT of the tape; see graph_export.h.
#include "autograd/graph_export.h"

#include <fmt/format.h>

#include <map>
#include <vector>

#include "autograd/errors.h"
#include "autograd/tape.h"

namespace mg {
namespace {

// A DOT string literal's body: quotes and backslashes escaped.
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string node_line(const Tape& tape, std::int32_t id, const GraphOptions& options) {
  const Node& n = tape.node(id);
  const std::string shape = options.shapes ? fmt::format(" {}", n.shape.str()) : std::string();
  if (n.op == OpId::Leaf) return fmt::format("  n{} [shape=box, label=\"%{} leaf{}\"];\n", id, id, shape);
  const std::string fill = n.in_backward ? ", style=filled, fillcolor=\"#f4c7c3\"" : "";
  return fmt::format("  n{} [label=\"%{} {}{}\"{}];\n", id, id, op_name(n.op), shape, fill);
}

}  // namespace

std::string tape_dot(std::int32_t first, const GraphOptions& options) {
  const Tape& tape = Tape::current();
  if (first < 0 || first > tape.size())
    throw TapeError(fmt::format("tape_dot: first node {} is outside the tape's {} nodes", first, tape.size()));
  std::string out = "digraph tape {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  if (!options.title.empty()) out += fmt::format("  label=\"{}\";\n  labelloc=t;\n", escaped(options.title));
  // Unlabelled nodes at the top level, each label's nodes in a cluster of their own.
  std::map<std::uint16_t, std::vector<std::int32_t>> by_label;
  for (std::int32_t id = first; id < tape.size(); ++id) by_label[tape.node(id).label].push_back(id);
  for (const auto& [label, ids] : by_label) {
    std::string body;
    for (std::int32_t id : ids) body += node_line(tape, id, options);
    if (label == 0)
      out += body;
    else
      out += fmt::format("  subgraph cluster_{} {{\n  label=\"{}\";\n{}  }}\n", label,
                         escaped(tape.labels()[label - 1u]), body);
  }
  for (std::int32_t id = first; id < tape.size(); ++id) {
    const Node& n = tape.node(id);
    for (std::uint32_t i = 0; i < n.num_inputs; ++i) {
      const std::int32_t from = tape.input(n, i).node;
      if (from >= first) out += fmt::format("  n{} -> n{};\n", from, id);
    }
  }
  out += "}\n";
  return out;
}

}  // namespace mg
