#include "autograd/grad.h"

#include "autograd/kernels/elementwise.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "autograd/anomaly.h"
#include "autograd/apply.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/ops.h"

namespace mg {

namespace {

struct Seeded {
  std::int32_t node;
  Tensor seed;
};

// Validates the outputs and their seeds: "grad: output must be a scalar ..." etc.
std::vector<Seeded> seed_outputs(Tape& tape, const std::vector<Tensor>& outputs,
                                 const std::vector<Tensor>& grad_outputs) {
  if (outputs.empty()) throw GradError("grad: no outputs given");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw GradError(fmt::format("grad: {} grad_outputs for {} outputs", grad_outputs.size(), outputs.size()));
  std::vector<Seeded> seeds;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    if (!out.defined()) throw GradError(fmt::format("grad: output {} is undefined", i));
    const std::int32_t node = tape.find_node(out, "grad");
    if (node < 0 || out.is_leaf()) {
      if (out.is_leaf() && out.requires_grad()) {
        // d leaf / d leaf: bind it so the identity gradient has a node to land on.
        seeds.push_back({tape.node_for(out, "grad"), Tensor{}});
      } else if (out.impl()->graphless_grad) {
        throw GradError(fmt::format("grad: output {} does not require grad: it was computed from gradients that "
                                    "grad() returned without create_graph, which have no graph; pass "
                                    "{{.create_graph = true}} to that grad() call (create_graph = true to "
                                    "backward()) to differentiate them again",
                                    i));
      } else {
        throw GradError(fmt::format("grad: output {} does not require grad: no recorded op connects it to a "
                                    "tensor that requires grad",
                                    i));
      }
    } else {
      seeds.push_back({node, Tensor{}});
    }
    Tensor seed;
    if (grad_outputs.empty()) {
      if (out.numel() != 1)
        throw GradError(fmt::format("grad: output must be a scalar, got {}; pass grad_outputs for non-scalar "
                                    "outputs",
                                    out.shape().str()));
      seed = ones(out.shape(), out.dtype());
    } else {
      seed = grad_outputs[i];
      if (!seed.defined() || seed.shape() != out.shape())
        throw GradError(fmt::format("grad: grad_outputs[{}] is {}, output is {}", i,
                                    seed.defined() ? seed.shape().str() : std::string("undefined"),
                                    out.shape().str()));
      require_same_dtype("grad", out, seed);
    }
    seeds.back().seed = seed;
  }
  return seeds;
}

// Note [Gradients without a graph]: a gradient computed without create_graph is a
// plain value: nothing on the tape connects it to the inputs, so a quantity made from
// it (a gradient norm, dot(g, v)) does not require grad, and grad() of it can only
// say "does not require grad" -- true, but it does not tell a user who wanted a
// second derivative what to change. Such gradients carry a mark (TensorImpl::
// graphless_grad), and ops pass it on to their results when they record nothing
// while recording is on (apply.cpp's record), so grad() of the quantity can name the
// cause and the fix. Under NoGradGuard the mark is not passed on: nothing there is
// meant to be differentiated, and the backward sweeps stay free of the check.
void mark_graphless(Tensor& g) { g.impl()->graphless_grad = true; }

// Note [gradients summed in place]: a node used by several ops gets one gradient
// from each, summed into its slot. With the graph not recorded (a backward without
// create_graph) and the slot the only handle on its storage (not a seed the caller
// holds, not a gradient a backward formula also returned for another input), the
// sum is written into the slot: add() would allocate a third tensor of that size
// while both terms are alive. In a conv net's batch norm every layer's input gets
// two such gradients (through the statistics and through the normalisation): one
// 14 MB allocation fewer at the peak of an Omniglot MAML step.
// True when `t` is the only handle on its data: no other Tensor shares its impl or
// its storage, so a write into it is seen by nobody else (the in-place sums and
// Note [donated gradients] rest on this).
bool sole_owner(const Tensor& t) {
  return t.impl()->refs.load(std::memory_order_acquire) == 1 && t.storage()->unique();
}

void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else if (!grad_enabled() && sole_owner(slot) && !slot.requires_grad() && slot.dtype() == g.dtype()) {
    kernels::add_into(slot, g);
  } else {
    slot = add(slot, g);
  }
}

// Anomaly mode for one node's backward in a sweep: while alive, the ops its formula
// runs name this node (anomaly_check_op); check_gradient and check_sum look at what
// the ops did not make (Note [Anomaly: the first producer] in anomaly.h).
class AnomalyScope {
 public:
  AnomalyScope(const Tape& tape, const Node& node, std::int32_t id, const Tensor& g)
      : tape_(tape), node_(node), g_finite_(all_finite(g)), previous_(detail::t_anomaly_backward) {
    for (std::uint32_t i = 0; i < node.num_inputs; ++i) shapes_.push_back(tape.input(node, i).shape);
    info_ = {node.op, id, shapes_, &node.shape, &g};
    detail::t_anomaly_backward = &info_;
  }
  ~AnomalyScope() { detail::t_anomaly_backward = previous_; }
  AnomalyScope(const AnomalyScope&) = delete;
  AnomalyScope& operator=(const AnomalyScope&) = delete;

  // A gradient the formula returned, before it is added to `slot`.
  void check_gradient(std::uint32_t i, const Tensor& gi, const Tensor& slot) {
    const char* kind = non_finite_kind(gi);
    if (*kind != '\0' && operands_finite())
      detail::anomaly_throw_backward(info_, fmt::format("the gradient for input {}", static_cast<char>('a' + i)), kind);
    slot_finite_ = !slot.defined() || all_finite(slot);
    gi_finite_ = *kind == '\0';
    info_.summing = true;
  }
  // The slot after the sum.
  void check_sum(const Tensor& slot) {
    info_.summing = false;
    if (!slot_finite_ || !gi_finite_) return;
    const char* kind = non_finite_kind(slot);
    if (*kind != '\0') detail::anomaly_throw_backward(info_, "summing its gradients into its inputs' ones", kind);
  }

 private:
  bool operands_finite() const {
    if (!g_finite_) return false;
    for (std::uint32_t j = 0; j < node_.num_saved; ++j) {
      const Tensor& t = tape_.saved(node_, j).tensor;
      if (t.defined() && !all_finite(t)) return false;
    }
    return true;
  }

  const Tape& tape_;
  const Node& node_;
  bool g_finite_;
  bool slot_finite_ = true, gi_finite_ = true;
  std::vector<Shape> shapes_;
  detail::AnomalyBackward info_{};
  const detail::AnomalyBackward* previous_;
};

// The reverse sweep over ids [lo, hi]: `target` marks the nodes whose gradients are wanted;
// returns the accumulated gradient of every node in the range (undefined where none).
std::vector<Tensor> sweep(Tape& tape, const std::vector<Seeded>& seeds, std::int32_t lo,
                          const std::vector<char>& target) {
  std::int32_t hi = lo;
  for (const Seeded& s : seeds) hi = std::max(hi, s.node);
  const std::size_t n = static_cast<std::size_t>(hi - lo + 1);

  // Forward pass over the range: which nodes depend on a target (only those need a gradient).
  std::vector<char> reaches(n, 0);
  for (std::int32_t id = lo; id <= hi; ++id) {
    const std::size_t k = static_cast<std::size_t>(id - lo);
    reaches[k] = target[k];
    const Node& node = tape.node(id);
    for (std::uint32_t i = 0; i < node.num_inputs && !reaches[k]; ++i) {
      const std::int32_t in = tape.input(node, i).node;
      reaches[k] = in >= lo && reaches[static_cast<std::size_t>(in - lo)];
    }
  }

  std::vector<Tensor> acc(n);
  for (const Seeded& s : seeds) accumulate(acc[static_cast<std::size_t>(s.node - lo)], s.seed);

  for (std::int32_t id = hi; id >= lo; --id) {
    const std::size_t k = static_cast<std::size_t>(id - lo);
    if (!acc[k].defined() || !reaches[k]) continue;
    // Copy what we need: the backward may append nodes and move the tape's storage.
    const Node node = tape.node(id);
    if (!node.backward) continue;  // a leaf
    std::uint32_t mask = 0;
    for (std::uint32_t i = 0; i < node.num_inputs; ++i) {
      const std::int32_t in = tape.input(node, i).node;
      if (in >= lo && reaches[static_cast<std::size_t>(in - lo)]) mask |= 1u << i;
    }
    if (!mask) continue;
    const Tensor g = target[k] ? acc[k] : std::move(acc[k]);
    // Anomaly mode (anomaly.h): the ops of this node's formula and sums name the node.
    std::optional<AnomalyScope> anomaly;
    if (detail::t_anomaly) [[unlikely]] anomaly.emplace(tape, node, id, g);
    // Note [donated gradients] (tape.h).
    const bool donate = !target[k] && !grad_enabled() && sole_owner(g);
    const Grads grads = [&] {
      detail::t_donated_grad = donate ? g.impl() : nullptr;
      const detail::ProfileDoubleBackward twice(node.in_backward);
      struct Clear {
        ~Clear() { detail::t_donated_grad = nullptr; }
      } clear;
      return node.backward(Saved(tape, id, mask), g);
    }();
    for (std::uint32_t i = 0; i < node.num_inputs; ++i) {
      if (!(mask >> i & 1u) || i >= grads.size() || !grads[i].defined()) continue;
      const NodeInput in = tape.input(node, i);
      if (grads[i].shape() != in.shape)
        throw GradError(fmt::format("{}: internal error: gradient for input {} is {}, input is {}",
                                    op_name(node.op), i, grads[i].shape().str(), in.shape.str()));
      Tensor& slot = acc[static_cast<std::size_t>(in.node - lo)];
      if (anomaly) anomaly->check_gradient(i, grads[i], slot);
      accumulate(slot, grads[i]);
      if (anomaly) anomaly->check_sum(slot);
    }
  }
  return acc;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options) {
  Tape& tape = Tape::current();
  const std::vector<Seeded> seeds = seed_outputs(tape, outputs, options.grad_outputs);

  std::vector<std::int32_t> input_nodes(inputs.size(), -1);
  std::int32_t lo = tape.size();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw GradError(fmt::format("grad: input {} is undefined", i));
    input_nodes[i] = tape.find_node(inputs[i], "grad");
    if (input_nodes[i] >= 0) lo = std::min(lo, input_nodes[i]);
  }

  std::vector<Tensor> acc;
  if (lo < tape.size()) {
    std::int32_t hi = 0;
    for (const Seeded& s : seeds) hi = std::max(hi, s.node);
    std::vector<char> target(static_cast<std::size_t>(std::max(hi - lo + 1, 1)), 0);
    for (std::int32_t id : input_nodes)
      if (id >= lo && id <= hi) target[static_cast<std::size_t>(id - lo)] = 1;
    std::optional<NoGradGuard> off;
    std::optional<EnableGradGuard> on;
    if (options.create_graph) on.emplace(); else off.emplace();
    const detail::ProfileSweep phase(options.create_graph);
    if (lo <= hi) acc = sweep(tape, seeds, lo, target);
  }

  std::vector<Tensor> result(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::int32_t id = input_nodes[i];
    const std::size_t k = static_cast<std::size_t>(id - lo);
    if (id >= 0 && k < acc.size() && acc[k].defined()) {
      result[i] = acc[k];
      if (!options.create_graph) mark_graphless(result[i]);
    } else if (!options.allow_unused) {
      throw GradError(fmt::format("grad: input {} is not reachable from the outputs; pass allow_unused = true to "
                                  "get an undefined gradient for it",
                                  i));
    }
  }
  return result;
}

void backward(const Tensor& output, const Tensor& grad_output, bool create_graph) {
  Tape& tape = Tape::current();
  std::vector<Tensor> go;
  if (grad_output.defined()) go.push_back(grad_output);
  const std::vector<Seeded> seeds = seed_outputs(tape, {output}, go);
  const std::int32_t hi = seeds[0].node;
  std::vector<char> target(static_cast<std::size_t>(hi + 1), 0);
  for (std::int32_t id = 0; id <= hi; ++id) target[static_cast<std::size_t>(id)] = tape.node(id).op == OpId::Leaf;
  std::vector<Tensor> acc;
  {
    std::optional<NoGradGuard> off;
    std::optional<EnableGradGuard> on;
    if (create_graph) on.emplace(); else off.emplace();
    const detail::ProfileSweep phase(create_graph);
    acc = sweep(tape, seeds, 0, target);
  }
  NoGradGuard no_grad;
  for (std::int32_t id = 0; id <= hi; ++id) {
    const std::size_t k = static_cast<std::size_t>(id);
    if (!target[k] || !acc[k].defined()) continue;
    Tensor leaf = tape.saved(tape.node(id), 0).tensor;
    const Tensor g = create_graph ? acc[k] : acc[k].detach();
    Tensor total = leaf.grad().defined() ? add(leaf.grad(), g) : g;
    if (!create_graph) mark_graphless(total);
    leaf.set_grad(total);
  }
}

}  // namespace mg
