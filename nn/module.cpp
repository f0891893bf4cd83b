#include "nn/module.h"

#include <fmt/format.h>

#include <cstring>

#include "autograd/errors.h"

namespace mg::nn {

Tensor Module::forward(const Tensor& x) {
  check_input_dtype(x, {}, false);
  ParamCursor own;
  return run(x, own);
}

Tensor Module::forward(const Tensor& x, std::span<const Tensor> params) {
  check_input_dtype(x, params, true);
  ParamCursor cursor(params);
  Tensor y = run(x, cursor);
  if (cursor.used() != cursor.size())
    throw ValueError(fmt::format("{}: forward got {} parameters, the module has {}", kind_, cursor.size(),
                                 cursor.used()));
  return y;
}

Tensor Module::forward_tasks(const Tensor& x, std::span<const Tensor> stacked) {
  if (!supports_task_stacks())
    throw ValueError(fmt::format("{}: cannot run a stack of tasks (Linear, activations and Sequential of them can)",
                                 kind_));
  if (stacked.empty()) throw ValueError(fmt::format("{}: forward_tasks needs the stacked parameters", kind_));
  if (stacked[0].ndim() < 1) throw ShapeError(fmt::format("{}: stacked parameters need a leading task axis", kind_));
  const std::int64_t tasks = stacked[0].shape()[0];
  if (x.ndim() < 1 || x.shape()[0] != tasks)
    throw ShapeError(fmt::format("{}: input must be [{}, ...] for {} stacked tasks, got {}", kind_, tasks, tasks,
                                 x.shape().str()));
  check_input_dtype(x, stacked, true);
  ParamCursor cursor(stacked, tasks);
  Tensor y = run(x, cursor);
  if (cursor.used() != cursor.size())
    throw ValueError(fmt::format("{}: forward got {} parameters, the module has {}", kind_, cursor.size(),
                                 cursor.used()));
  return y;
}

Tensor Module::run(const Tensor& x, ParamCursor& params) {
  if (!params.functional()) return forward_with(x, params);
  const std::size_t available = params.params_.size() - params.at_;
  if (params_.size() > available)
    throw ValueError(fmt::format("{}: forward got {} parameters, too few: none left for '{}'", kind_,
                                 params.params_.size(), params_[available].name));
  const std::size_t outer_base = params.base_;
  params.base_ = params.at_;
  params.at_ += params_.size();
  Tensor y = forward_with(x, params);
  params.base_ = outer_base;
  return y;
}

Tensor Module::take(ParamCursor& params, std::size_t i) const {
  const NamedTensor& own = params_[i];
  if (!params.functional()) return own.tensor;
  const std::size_t at = params.base_ + i;
  const Tensor& t = params.params_[at];
  Shape expected = own.tensor.shape();
  if (params.tasks() > 0) {
    std::vector<std::int64_t> dims{params.tasks()};
    for (int d = 0; d < expected.ndim(); ++d) dims.push_back(expected[d]);
    expected = Shape(dims);
  }
  if (!t.defined() || t.shape() != expected)
    throw ShapeError(fmt::format("{}: parameter {} ('{}') must be {}, got {}", kind_, at, own.name, expected.str(),
                                 t.defined() ? t.shape().str() : "undefined"));
  return t;
}

bool Module::own_dtype_differs(DType dtype, std::size_t& index) const {
  for (const NamedTensor& p : params_) {
    if (p.tensor.dtype() != dtype) return true;
    ++index;
  }
  for (const Child& c : children_)
    if (c.module->own_dtype_differs(dtype, index)) return true;
  return false;
}

const std::string& Module::owner_kind(std::size_t index) const {
  if (index < params_.size()) return kind_;
  index -= params_.size();
  for (const Child& c : children_) {
    const std::size_t n = c.module->parameters().size();
    if (index < n) return c.module->owner_kind(index);
    index -= n;
  }
  return kind_;  // not reached: index < parameters().size()
}

void Module::check_input_dtype(const Tensor& x, std::span<const Tensor> params, bool functional) const {
  if (!x.defined() || !is_floating(x.dtype())) return;
  const DType want = x.dtype();
  std::size_t i = 0;
  if (functional) {
    while (i < params.size() && (!params[i].defined() || params[i].dtype() == want)) ++i;
    if (i == params.size()) return;
  } else if (!own_dtype_differs(want, i)) {
    return;
  }
  // The error path: names are built only here.
  const std::vector<NamedTensor> named = named_parameters();
  if (i >= named.size()) return;  // a list longer than the model: run() reports it
  const std::string where = fmt::format("{} (in {})", named[i].name, owner_kind(i));
  const DType got = functional ? params[i].dtype() : named[i].tensor.dtype();
  if (functional)
    throw DTypeError(fmt::format("{}: dtypes differ: params[{}], for parameter {}, is {}, the input is {}", kind_, i,
                                 where, dtype_name(got), dtype_name(want)));
  throw DTypeError(fmt::format("{}: dtypes differ: parameter {} is {}, the input is {}; build the model as {} (the "
                               "dtype argument of its layers and builders) or convert it with to()",
                               kind_, where, dtype_name(got), dtype_name(want), dtype_name(want)));
}

void Module::set_parameters(std::span<const Tensor> values) {
  const std::vector<NamedTensor> named = named_parameters();
  if (values.size() != named.size())
    throw ValueError(fmt::format("{}: set_parameters got {} tensors, the module has {} parameters", kind_,
                                 values.size(), named.size()));
  for (std::size_t i = 0; i < named.size(); ++i) {
    const Tensor& p = named[i].tensor;
    const Tensor& v = values[i];
    if (!v.defined())
      throw ValueError(fmt::format("{}: set_parameters: values[{}], for {}, is undefined", kind_, i, named[i].name));
    if (v.shape() != p.shape())
      throw ShapeError(fmt::format("{}: set_parameters: shapes differ: {} is {}, values[{}] is {}", kind_,
                                   named[i].name, p.shape().str(), i, v.shape().str()));
    if (v.dtype() != p.dtype())
      throw DTypeError(fmt::format("{}: set_parameters: dtypes differ: {} is {}, values[{}] is {}; convert the "
                                   "values with to()",
                                   kind_, named[i].name, dtype_name(p.dtype()), i, dtype_name(v.dtype())));
  }
  // A value that shares storage with another parameter (the list rotated, say) is read
  // before anything is written.
  std::vector<Tensor> sources(values.begin(), values.end());
  for (std::size_t i = 0; i < named.size(); ++i)
    for (std::size_t j = 0; j < named.size(); ++j)
      if (j != i && sources[i].storage().get() == named[j].tensor.storage().get()) sources[i] = values[i].clone();
  for (std::size_t i = 0; i < named.size(); ++i) {
    Tensor p = named[i].tensor;
    if (p.nbytes() > 0) std::memmove(p.mutable_raw_data(), sources[i].raw_data(), p.nbytes());
  }
}

void Module::collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const {
  for (const NamedTensor& p : buffers ? buffers_ : params_) out.push_back({prefix + p.name, p.tensor});
  for (const Child& c : children_) c.module->collect(prefix + c.name + ".", buffers, out);
}

std::vector<NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  collect("", false, out);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<NamedTensor> out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (NamedTensor& p : named_parameters()) out.push_back(std::move(p.tensor));
  return out;
}

std::int64_t Module::num_parameters() const {
  std::int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (Child& c : children_) c.module->train(on);
}

void Module::to(DType dtype) {
  for (NamedTensor& p : params_) p.tensor = p.tensor.to(dtype).requires_grad_();
  for (NamedTensor& b : buffers_) b.tensor = b.tensor.to(dtype);
  for (Child& c : children_) c.module->to(dtype);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

std::size_t Module::add_parameter(std::string name, Tensor value) {
  value.requires_grad_();
  params_.push_back({std::move(name), std::move(value)});
  return params_.size() - 1;
}

std::size_t Module::add_buffer(std::string name, Tensor value) {
  buffers_.push_back({std::move(name), std::move(value)});
  return buffers_.size() - 1;
}

Module& Module::add_module(std::string name, std::unique_ptr<Module> child) {
  children_.push_back({std::move(name), std::move(child)});
  return *children_.back().module;
}

}  // namespace mg::nn
