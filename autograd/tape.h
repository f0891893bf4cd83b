// The tape: a Wengert list of the ops this thread has recorded.
//
// Every differentiable op appends one Node: which op, which nodes its inputs
// came from (with their shapes), the few tensors its backward reads, and its
// attributes. Nodes are numbered in creation order, so an input always has a
// smaller id than the op that read it, and grad() is a plain reverse loop over
// ids: no topological sort, no recursion, no reference cycles. The tape prints
// as numbered lines (dump()):
//
//   %0 = leaf()              [1, 40] f32
//   %2 = matmul(%1, %0)      [10, 40] f32
//
// Note [Generations]: a TapeScope rewinds the tape to where it started when it
// ends, freeing the nodes and the tensors they saved. Ids are then reused, so
// every node also carries a generation (a counter bumped by each rewind), and
// a handle remembers the generation of its node. A handle whose node was
// rewound away no longer matches and is refused with a TapeError naming both
// generations. Leaves (parameters) are not refused: they are simply bound
// again, as a new leaf node, the next time an op reads them.
//
// One tape per thread: Tape::current() is thread-local, so tasks on worker
// threads record independently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autograd/op_list.h"
#include "autograd/tensor.h"

namespace mg {

class Saved;

// What a node keeps for its backward.
enum class Save : std::uint8_t {
  Nothing,  // shapes and attributes only
  Inputs,   // every input, in order
  Output,   // the result (cheaper for exp, tanh, sigmoid, sqrt)
  Both,     // inputs, then the result
  // The first input only: max-pooling's keys, without the values it selects from (Note
  // [pooling by the normaliser's input], nn/batchnorm.cpp): the arg-max is all the
  // backward needs, and the values may be a full-size tensor nothing else keeps.
  FirstInput,
};

using BackwardFn = std::vector<Tensor> (*)(const Saved& s, const Tensor& grad);

// Op attributes are stored inline in the node as a small trivially copyable struct.
inline constexpr std::size_t kAttrBytes = 80;
struct AttrBlob {
  alignas(8) std::array<unsigned char, kAttrBytes> bytes{};
};

struct Node {
  OpId op = OpId::Leaf;
  Save save = Save::Nothing;
  // Recorded inside a grad(create_graph = true) sweep: the part of the graph that makes
  // a meta-gradient second order (autograd/graph_export.h draws it apart).
  bool in_backward = false;
  std::uint16_t label = 0;  // 1 + index into Tape::labels() of the TapeLabel open then; 0: none
  BackwardFn backward = nullptr;
  std::uint32_t generation = 0;
  std::uint32_t inputs_begin = 0, num_inputs = 0;  // into Tape::inputs_
  std::uint32_t saved_begin = 0, num_saved = 0;    // into Tape::saved_
  Shape shape;
  DType dtype = DType::F32;
  AttrBlob attrs;
};

// One input of a node: the node it came from (-1 for a constant) and its shape.
struct NodeInput {
  std::int32_t node = -1;
  Shape shape;
};

// A tensor a node keeps for its backward, with the storage version at save time.
struct SavedTensor {
  Tensor tensor;
  std::uint32_t version = 0;
};

struct TapeStats {
  std::int64_t nodes = 0;
  std::int64_t saved_tensors = 0;
  std::int64_t saved_bytes = 0;  // bytes of the tensors the tape keeps alive
};

class Tape {
 public:
  // This thread's tape.
  static Tape& current();

  std::int32_t size() const { return static_cast<std::int32_t>(nodes_.size()); }
  std::uint32_t generation() const { return generation_; }
  const Node& node(std::int32_t id) const { return nodes_[static_cast<std::size_t>(id)]; }
  const NodeInput& input(const Node& n, std::uint32_t i) const { return inputs_[n.inputs_begin + i]; }
  const SavedTensor& saved(const Node& n, std::uint32_t i) const { return saved_[n.saved_begin + i]; }

  // The node id of `t` on this tape for an op named `op` to read: -1 for a tensor
  // that does not require grad; binds a leaf that requires grad; throws TapeError for a
  // result whose node was rewound or that was recorded on another thread's tape.
  std::int32_t node_for(const Tensor& t, std::string_view op);
  // Like node_for but never binds: -1 for a leaf not bound to this tape now.
  std::int32_t find_node(const Tensor& t, std::string_view op) const;

  // Appends a node; its inputs are given by node id and shape, its saved tensors by handle.
  // Returns the new node's id. Used by apply<Op> only.
  std::int32_t append(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                      std::uint32_t num_inputs, const Tensor* saved, std::uint32_t num_saved, const Shape& shape,
                      DType dtype);
  // The same with the saved tensors given by address, so apply<Op> hands over its
  // operands without copying each handle on the way.
  std::int32_t append(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                      std::uint32_t num_inputs, const Tensor* const* saved, std::uint32_t num_saved,
                      const Shape& shape, DType dtype);
  // Makes `t` the result of node `id`: requires grad, not a leaf.
  void attach(Tensor& t, std::int32_t id) const;

  // Frees every node with id >= mark and what it saved; starts a new generation.
  void rewind(std::int32_t mark);

  TapeStats stats() const;
  // stats().saved_bytes, kept up to date as nodes are appended and rewound (no loop).
  std::int64_t saved_bytes() const { return saved_bytes_; }
  // One line per node: "%7 = mul(%3, %5)  [25, 40] f32".
  std::string dump() const;

  // The names TapeLabel scopes gave, each once (Node::label points here); kept across rewinds.
  const std::vector<std::string>& labels() const { return labels_; }
  // The Node::label value for `name`, adding it when new. TapeError past 65,535 names.
  std::uint16_t label_id(std::string_view name);

 private:
  template <class SavedAt>
  std::int32_t append_node(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                           std::uint32_t num_inputs, SavedAt saved_at, std::uint32_t num_saved, const Shape& shape,
                           DType dtype);

  std::vector<Node> nodes_;
  std::vector<NodeInput> inputs_;
  std::vector<SavedTensor> saved_;
  std::vector<std::string> labels_;
  std::uint32_t generation_ = 1;
  std::int64_t saved_bytes_ = 0;
};

namespace detail {
inline thread_local std::uint16_t t_tape_label = 0;  // the innermost open TapeLabel's id
}  // namespace detail

// Names the nodes recorded on this thread while it is alive ("inner step 1", "query"),
// for pictures of the graph (autograd/graph_export.h); scopes nest, the innermost wins.
class TapeLabel {
 public:
  explicit TapeLabel(std::string_view name)
      : saved_(std::exchange(detail::t_tape_label, Tape::current().label_id(name))) {}
  ~TapeLabel() { detail::t_tape_label = saved_; }
  TapeLabel(const TapeLabel&) = delete;
  TapeLabel& operator=(const TapeLabel&) = delete;

 private:
  std::uint16_t saved_;
};

// Rewinds this thread's tape to its length at construction when it goes out of
// scope (Note [Generations]). Use one per meta-step, or per inner step where
// nothing recorded must survive it.
class TapeScope {
 public:
  TapeScope() : tape_(Tape::current()), mark_(tape_.size()) {}
  ~TapeScope() { tape_.rewind(mark_); }
  TapeScope(const TapeScope&) = delete;
  TapeScope& operator=(const TapeScope&) = delete;

 private:
  Tape& tape_;
  std::int32_t mark_;
};

// Whether ops record onto the tape on this thread.
bool grad_enabled();

namespace detail {
// Note [donated gradients]: in a sweep that records nothing, the gradient a node's
// backward receives is dead once that backward returns, when the sweep's own
// variable is its only handle (not a target the caller gets back, not a seed the
// caller passed, not shared with another slot). grad() marks such a gradient here
// for the length of the call, and the few backward formulas that end with one
// elementwise pass over it (relu's, channel_normalize's) write their result into
// its storage instead of a new tensor: one full-size tensor fewer alive at the
// peak of a conv net's backward. A formula may use this only for its last read of
// the gradient, and never returns the gradient itself.
inline thread_local const TensorImpl* t_donated_grad = nullptr;
inline bool donated(const Tensor& grad) { return grad.impl() == t_donated_grad && t_donated_grad != nullptr; }
}  // namespace detail

// Turns recording off on this thread for its lifetime (optimizer updates,
// evaluation, and the backward sweep when create_graph is false).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Turns recording back on inside a NoGradGuard (used by create_graph sweeps).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// This thread's tape, printed (see Tape::dump).
std::string dump();

}  // namespace mg
