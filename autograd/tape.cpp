#include "autograd/tape.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "autograd/profile.h"

namespace mg {

namespace {
thread_local bool t_grad_enabled = true;
}

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { t_grad_enabled = previous_; }

Tape& Tape::current() {
  thread_local Tape tape;
  return tape;
}

std::int32_t Tape::find_node(const Tensor& t, std::string_view op) const {
  const detail::TensorImpl* impl = t.impl();
  if (!impl || !impl->requires_grad) return -1;
  const bool bound_here = impl->tape == this && impl->node >= 0 && impl->node < size() &&
                          nodes_[static_cast<std::size_t>(impl->node)].generation == impl->generation;
  if (bound_here) return impl->node;
  if (impl->is_leaf) return -1;
  if (impl->tape != this)
    throw TapeError(fmt::format("{}: tensor was recorded on another thread's tape; pass tensors between "
                                "threads with detach()",
                                op));
  throw TapeError(fmt::format("{}: tensor from a rewound tape scope: it was recorded as node %{} in tape "
                              "generation {}, but the tape has been rewound since (now generation {}, {} nodes); "
                              "detach() results that must outlive their TapeScope",
                              op, impl->node, impl->generation, generation_, size()));
}

std::int32_t Tape::node_for(const Tensor& t, std::string_view op) {
  const std::int32_t id = find_node(t, op);
  if (id >= 0 || !t.requires_grad()) return id;
  // An unbound leaf that requires grad: bind it as a new leaf node that keeps the handle,
  // so that backward() can accumulate into it.
  const std::int32_t leaf = append(OpId::Leaf, Save::Inputs, nullptr, AttrBlob{}, nullptr, 0, &t, 1, t.shape(), t.dtype());
  detail::TensorImpl* impl = t.impl();
  impl->tape = this;
  impl->node = leaf;
  impl->generation = generation_;
  return leaf;
}

// Appends the inputs and saved tensors first and the node last, so that a failed
// allocation never leaves a node pointing past the end of inputs_ or saved_.
template <class SavedAt>
std::int32_t Tape::append_node(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                               std::uint32_t num_inputs, SavedAt saved_at, std::uint32_t num_saved, const Shape& shape,
                               DType dtype) {
  const auto inputs_begin = static_cast<std::uint32_t>(inputs_.size());
  const auto saved_begin = static_cast<std::uint32_t>(saved_.size());
  for (std::uint32_t i = 0; i < num_inputs; ++i) inputs_.push_back(inputs[i]);
  for (std::uint32_t i = 0; i < num_saved; ++i) {
    const Tensor& t = saved_at(i);
    saved_.push_back({t, t.defined() ? t.version() : 0});
    if (t.defined()) saved_bytes_ += static_cast<std::int64_t>(t.nbytes());
  }
  Node& n = nodes_.emplace_back();  // built in place: a Node is ~200 bytes
  n.op = op;
  n.save = save;
  n.in_backward = detail::t_profile_phase == ProfilePhase::RecordedBackward;
  n.label = detail::t_tape_label;
  n.backward = backward;
  n.generation = generation_;
  n.inputs_begin = inputs_begin;
  n.num_inputs = num_inputs;
  n.saved_begin = saved_begin;
  n.num_saved = num_saved;
  n.shape = shape;
  n.dtype = dtype;
  n.attrs = attrs;
  return size() - 1;
}

std::int32_t Tape::append(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                          std::uint32_t num_inputs, const Tensor* saved, std::uint32_t num_saved,
                          const Shape& shape, DType dtype) {
  return append_node(op, save, backward, attrs, inputs, num_inputs,
                     [saved](std::uint32_t i) -> const Tensor& { return saved[i]; }, num_saved, shape, dtype);
}

std::int32_t Tape::append(OpId op, Save save, BackwardFn backward, const AttrBlob& attrs, const NodeInput* inputs,
                          std::uint32_t num_inputs, const Tensor* const* saved, std::uint32_t num_saved,
                          const Shape& shape, DType dtype) {
  return append_node(op, save, backward, attrs, inputs, num_inputs,
                     [saved](std::uint32_t i) -> const Tensor& { return *saved[i]; }, num_saved, shape, dtype);
}

void Tape::attach(Tensor& t, std::int32_t id) const {
  detail::TensorImpl* impl = t.impl();
  impl->requires_grad = true;
  impl->is_leaf = false;
  impl->tape = this;
  impl->node = id;
  impl->generation = nodes_[static_cast<std::size_t>(id)].generation;
}

void Tape::rewind(std::int32_t mark) {
  if (mark < 0 || mark > size())
    throw TapeError(fmt::format("tape: internal error: rewind to {} but the tape has {} nodes", mark, size()));
  if (mark == size()) return;
  const Node& first = nodes_[static_cast<std::size_t>(mark)];
  for (std::size_t i = first.saved_begin; i < saved_.size(); ++i)
    if (saved_[i].tensor.defined()) saved_bytes_ -= static_cast<std::int64_t>(saved_[i].tensor.nbytes());
  inputs_.resize(first.inputs_begin);
  saved_.resize(first.saved_begin);
  nodes_.resize(static_cast<std::size_t>(mark));
  ++generation_;
}

std::uint16_t Tape::label_id(std::string_view name) {
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == name) return static_cast<std::uint16_t>(i + 1);
  if (labels_.size() >= 65535) throw TapeError("tape: more than 65,535 distinct TapeLabel names");
  labels_.emplace_back(name);
  return static_cast<std::uint16_t>(labels_.size());
}

TapeStats Tape::stats() const {
  TapeStats s;
  s.nodes = size();
  s.saved_tensors = static_cast<std::int64_t>(saved_.size());
  for (const SavedTensor& st : saved_)
    if (st.tensor.defined()) s.saved_bytes += static_cast<std::int64_t>(st.tensor.nbytes());
  return s;
}

std::string Tape::dump() const {
  std::string out;
  for (std::int32_t id = 0; id < size(); ++id) {
    const Node& n = nodes_[static_cast<std::size_t>(id)];
    std::string args;
    for (std::uint32_t i = 0; i < n.num_inputs; ++i) {
      const NodeInput& in = input(n, i);
      if (i) args += ", ";
      args += in.node >= 0 ? fmt::format("%{}", in.node) : fmt::format("const{}", in.shape.str());
    }
    const std::string lhs = fmt::format("%{} = {}({})", id, op_name(n.op), args);
    out += fmt::format("{:<28} {} {}\n", lhs, n.shape.str(), dtype_name(n.dtype));
  }
  return out;
}

std::string dump() { return Tape::current().dump(); }

}  // namespace mg
