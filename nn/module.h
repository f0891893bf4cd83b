// Module: a layer or network that owns named parameters and can run with them
// or with any other list of tensors of the same shapes.
//
// MAML adapts the weights per task, θ'ᵢ = θ − α ∇θ L(f_θ), and then evaluates
// f_{θ'ᵢ} on the query set with θ'ᵢ still a function of θ. A module therefore
// has two forwards that run the same code:
//
//   y = net.forward(x);                 // f_θ with the module's own parameters
//   y = net.forward(x, theta_i);        // f_{θ'ᵢ}: the functional form
//
// Parameters are leaves that require grad and live outside the tape (DESIGN.md):
// the tape binds them as leaves each step. parameters() lists them in a fixed
// order (a module's own, in registration order, then each child's, depth first)
// and forward(x, params) consumes a list in exactly that order through a
// ParamCursor, so Sequential hands each child its slice without copying.
//
// Note [Task stacks]: MAML runs one network per task of a meta-batch, each with
// its own θ'ᵢ. For small networks the per-op overhead dominates, so a module may
// also run T copies of itself at once (PyTorch users know this as vmap):
//
//   y = net.forward_tasks(x, stacked);  // x: [T, n, ...]; stacked[j]: [T, *shape_j]
//
// computes y[t] = f_{stacked[·][t]}(x[t]) for every t in one pass of batched ops.
// Copy t never mixes with copy s, so the gradient of Σₜ Lₜ with respect to the
// stacked tensors holds each task's own gradient in its slice. Linear, the
// activations and Sequential of them support it (supports_task_stacks()).
//
// Buffers (BatchNorm's running statistics) are state that is not trained; they
// are saved in checkpoints next to the parameters.
//
// Note [Models of either dtype]: a model is float32 (fast) or float64 (gradient checks,
// finite-difference tests). The layers and the builders of nn/models.h take the dtype as
// their last argument, float32 by default: Linear(1, 40, gen, true, DType::F64),
// sinusoid_mlp(gen, DType::F64). The initial values are the same draws from the
// generator in either dtype, so a float64 model rounded with to(DType::F32) is the
// float32 model bit for bit (the float32 model converted to float64 differs from the
// float64 one by the float32 rounding of each value). to() converts a built model. The
// input of forward must have the parameters' dtype: forward checks every parameter (or
// every tensor of the list it is given) before it runs and names the first that differs,
//   Sequential: dtypes differ: parameter 0.weight (in Linear) is f32, the input is f64; ...
// rather than letting the first op report a mixed-dtype matmul deep inside the model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace mg::nn {

struct NamedTensor {
  std::string name = {};
  Tensor tensor = {};
};

class Module;

// The parameters a forward pass reads: the modules' own, or the next tensors of a list.
class ParamCursor {
 public:
  // Own parameters.
  ParamCursor() = default;
  // The list `params`, consumed in parameters() order.
  explicit ParamCursor(std::span<const Tensor> params) : params_(params), functional_(true) {}
  // The list `params`, each with a leading axis of `tasks` copies (Note [Task stacks]).
  ParamCursor(std::span<const Tensor> params, std::int64_t tasks)
      : params_(params), tasks_(tasks), functional_(true) {}

  bool functional() const { return functional_; }
  // The number of stacked copies, or 0 for an ordinary forward.
  std::int64_t tasks() const { return tasks_; }
  std::size_t used() const { return at_; }
  std::size_t size() const { return params_.size(); }

 private:
  friend class Module;
  std::span<const Tensor> params_;
  std::size_t at_ = 0;    // the next tensor not yet claimed by a module
  std::size_t base_ = 0;  // where the running module's own parameters start
  std::int64_t tasks_ = 0;
  bool functional_ = false;
};

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // f_θ(x) with the module's own parameters. DTypeError naming the parameter when one is
  // not of x's dtype (Note [Models of either dtype]).
  Tensor forward(const Tensor& x);
  // f_params(x): the same network with `params` in parameters() order. Throws ValueError
  // when the list is shorter or longer than parameters(), ShapeError when a shape differs,
  // DTypeError when a tensor is not of x's dtype.
  Tensor forward(const Tensor& x, std::span<const Tensor> params);
  Tensor operator()(const Tensor& x) { return forward(x); }
  // T networks at once (Note [Task stacks]): `stacked` in parameters() order, each
  // [T, *shape]; x is [T, n, ...]. ValueError when the module cannot run stacked or
  // the list's length differs; ShapeError when a tensor's shape differs.
  Tensor forward_tasks(const Tensor& x, std::span<const Tensor> stacked);
  // Whether forward_tasks works: true for Linear, the activations and Sequential of them.
  virtual bool supports_task_stacks() const { return false; }

  // Runs the module, drawing each parameter from `params` (what subclasses implement).
  // Read own parameter i with take(params, i), in any order; run a child with
  // child.run(x, params), never with child.forward_with.
  virtual Tensor forward_with(const Tensor& x, ParamCursor& params) = 0;
  // Claims this module's own parameters from `params` (they come first), then runs
  // forward_with; containers call this for their children.
  Tensor run(const Tensor& x, ParamCursor& params);

  // What error messages call this module: "Linear", "Conv2d", ...
  const std::string& kind() const { return kind_; }

  std::vector<Tensor> parameters() const;
  // Names are dotted paths: "0.weight", "3.running_mean".
  std::vector<NamedTensor> named_parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  std::int64_t num_parameters() const;

  // Training mode (the default) or evaluation mode; only BatchNorm2d's running mode tells them apart.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // Converts every parameter and buffer to `dtype` (parameters stay leaves that require grad).
  // The tensors are replaced: build optimizers after calling this, not before.
  void to(DType dtype);
  // Copies `values`, in parameters() order, into the parameters in place: the tensors keep
  // their identity, so optimizers built on them and every handle to them see the new
  // values (θ ← θ'ᵢ after an adaptation, weights computed elsewhere). Nothing is written
  // unless every value fits: ValueError when the list's length differs or a value is
  // undefined, ShapeError or DTypeError naming the parameter.
  void set_parameters(std::span<const Tensor> values);
  // Drops the accumulated .grad() of every parameter.
  void zero_grad();

 protected:
  explicit Module(std::string kind) : kind_(std::move(kind)) {}
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // Registers a parameter (made a leaf that requires grad); returns its index.
  std::size_t add_parameter(std::string name, Tensor value);
  std::size_t add_buffer(std::string name, Tensor value);
  Module& add_module(std::string name, std::unique_ptr<Module> child);

  // Own parameter i, or the i-th tensor the cursor handed this module (checked against
  // parameter i's shape, with the leading task axis when the cursor is stacked).
  Tensor take(ParamCursor& params, std::size_t i) const;
  Tensor& parameter(std::size_t i) { return params_[i].tensor; }
  const Tensor& parameter(std::size_t i) const { return params_[i].tensor; }
  Tensor& buffer(std::size_t i) { return buffers_[i].tensor; }
  std::size_t num_children() const { return children_.size(); }
  Module& child(std::size_t i) { return *children_[i].module; }
  const Module& child(std::size_t i) const { return *children_[i].module; }

 private:
  struct Child {
    std::string name;
    std::unique_ptr<Module> module;
  };
  void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;
  // Note [Models of either dtype]: throws DTypeError when a parameter (own, or of the list
  // `params` when functional) is not of x's floating dtype.
  void check_input_dtype(const Tensor& x, std::span<const Tensor> params, bool functional) const;
  // Whether one of the parameters of this subtree differs from `dtype`; `index` counts
  // the parameters passed before it, in parameters() order.
  bool own_dtype_differs(DType dtype, std::size_t& index) const;
  // The kind of the module owning parameter `index` (parameters() order) of this subtree.
  const std::string& owner_kind(std::size_t index) const;

  std::string kind_;
  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> buffers_;
  std::vector<Child> children_;
  bool training_ = true;
};

}  // namespace mg::nn
