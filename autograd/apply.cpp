#include "autograd/apply.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg {

namespace {
char operand_name(std::size_t i) { return static_cast<char>('a' + i); }
}  // namespace

Tensor Saved::checked(std::uint32_t slot) const {
  const Node& n = tape_.node(id_);
  if (slot >= n.num_saved)
    throw GradError(fmt::format("{}: internal error: backward reads saved tensor {} of {}", op_name(n.op), slot,
                                n.num_saved));
  const SavedTensor& st = tape_.saved(n, slot);
  if (st.tensor.defined() && st.tensor.version() != st.version)
    throw GradError(fmt::format("{}: a tensor saved for backward was modified in place (version {} at save, now "
                                "{}); do in-place updates under NoGradGuard after grad(), or clone() first",
                                op_name(n.op), st.version, st.tensor.version()));
  return st.tensor;
}

Tensor Saved::input(std::uint32_t i) const {
  if (save_ != Save::Inputs && save_ != Save::Both && !(save_ == Save::FirstInput && i == 0))
    throw GradError(fmt::format("{}: internal error: backward reads an input it did not save",
                                op_name(tape_.node(id_).op)));
  return checked(i);
}

Tensor Saved::output() const {
  const Node& n = tape_.node(id_);
  if (save_ != Save::Output && save_ != Save::Both)
    throw GradError(fmt::format("{}: internal error: backward reads an output it did not save", op_name(n.op)));
  return checked(n.num_saved - 1);
}

Shape Saved::input_shape(std::uint32_t i) const {
  const Node& n = tape_.node(id_);
  return tape_.input(n, i).shape;
}

std::uint32_t Saved::num_inputs() const { return tape_.node(id_).num_inputs; }
Shape Saved::shape() const { return tape_.node(id_).shape; }
DType Saved::dtype() const { return tape_.node(id_).dtype; }

namespace detail {

void check_dtypes(std::string_view op, std::span<const Tensor* const> inputs) {
  const Tensor* first = nullptr;
  std::size_t first_i = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = *inputs[i];
    if (!t.defined()) throw ValueError(fmt::format("{}: operand {} is an undefined tensor", op, operand_name(i)));
    if (!is_floating(t.dtype())) continue;
    if (!first) {
      first = &t;
      first_i = i;
    } else if (t.dtype() != first->dtype()) {
      throw DTypeError(fmt::format("{}: mixed dtypes: {} is {}, {} is {}", op, operand_name(first_i),
                                   dtype_name(first->dtype()), operand_name(i), dtype_name(t.dtype())));
    }
  }
}

void record(OpId id, BackwardFn backward, Save save, const AttrBlob& attrs, std::span<const Tensor* const> inputs,
            Tensor& out) {
  if (!grad_enabled()) return;
  bool any = false;
  for (const Tensor* t : inputs) any = any || t->requires_grad();
  if (!any) {
    // Note [Gradients without a graph] (grad.cpp): the mark travels with the values.
    for (const Tensor* t : inputs)
      if (t->defined() && t->impl()->graphless_grad) out.impl()->graphless_grad = true;
    return;
  }

  Tape& tape = Tape::current();
  constexpr std::size_t kInline = 4;
  std::array<NodeInput, kInline> small_inputs;
  std::vector<NodeInput> big_inputs;
  NodeInput* node_inputs = small_inputs.data();
  if (inputs.size() > kInline) {
    big_inputs.resize(inputs.size());
    node_inputs = big_inputs.data();
  }
  for (std::size_t i = 0; i < inputs.size(); ++i)
    node_inputs[i] = {tape.node_for(*inputs[i], op_name(id)), inputs[i]->shape()};

  // The saved tensors by address: the tape copies each handle once.
  std::array<const Tensor*, kInline + 1> small_saved;
  std::vector<const Tensor*> big_saved;
  const Tensor** saved = small_saved.data();
  std::uint32_t num_saved = 0;
  const bool keep_inputs = save == Save::Inputs || save == Save::Both;
  const bool keep_output = save == Save::Output || save == Save::Both;
  if (keep_inputs && inputs.size() > kInline) {
    big_saved.resize(inputs.size() + 1);
    saved = big_saved.data();
  }
  if (keep_inputs)
    for (const Tensor* t : inputs) saved[num_saved++] = t;
  if (save == Save::FirstInput && !inputs.empty()) saved[num_saved++] = inputs[0];
  if (keep_output) saved[num_saved++] = &out;

  const std::int32_t node = tape.append(id, save, backward, attrs, node_inputs, static_cast<std::uint32_t>(inputs.size()),
                                        saved, num_saved, out.shape(), out.dtype());
  tape.attach(out, node);
}

}  // namespace detail
}  // namespace mg
