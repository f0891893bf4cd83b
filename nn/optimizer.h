// Optimizer: the outer-loop update θ ← θ - update(∇θ), applied in place.
//
// Parameters are leaves outside the tape; an update writes their storage under
// NoGradGuard and bumps the storage version (Note [Saved tensor versions] in
// autograd/apply.h), so a backward that would still read the old values fails
// loudly. Gradients come either from each parameter's .grad() (after backward())
// or from an explicit list (after grad(), as the meta-learners do).
//
// State (momentum buffers, Adam's moments and step counts) is exposed as named
// tensors and scalars so that checkpoints can save and restore it exactly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace mg::nn {

struct OptimizerState {
  std::string kind = {};                                 // "sgd", "adam"
  std::vector<NamedTensor> tensors = {};                 // per-parameter state, e.g. "m.3"
  std::vector<std::pair<std::string, double>> scalars = {};  // e.g. "lr", "step.3"
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // slots_ points into the derived object
  Optimizer& operator=(const Optimizer&) = delete;

  // One update from each parameter's .grad(); parameters without one are left alone.
  void step();
  // One update from `grads`, one per parameter in order (undefined: left alone).
  // Throws ValueError for a wrong count, ShapeError / DTypeError for a gradient that does not fit.
  void step(const std::vector<Tensor>& grads);
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }
  const std::string& kind() const { return kind_; }

  OptimizerState state() const;
  // Restores what state() returned (same kind, same parameter shapes); ValueError / ShapeError otherwise.
  void load_state(const OptimizerState& state);

 protected:
  Optimizer(std::string kind, std::vector<Tensor> params, double lr);
  // θ_i ← update, in place; called under NoGradGuard with a gradient of θ_i's shape and dtype.
  virtual void update(std::size_t i, Tensor& param, const Tensor& grad) = 0;
  // Per-parameter state, by name prefix ("m", "v", ...): (*slots_[k].second)[i] belongs to parameter i;
  // undefined until the first update.
  std::vector<std::pair<std::string, std::vector<Tensor>*>> slots_;
  std::vector<std::int64_t> steps_;  // updates applied to each parameter

 private:
  std::string kind_;
  std::vector<Tensor> params_;
  double lr_;
};

// Throws ValueError naming `kind` unless lr is finite and >= 0.
void require_finite_lr(std::string_view kind, double lr);

}  // namespace mg::nn
