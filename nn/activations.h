// Parameter-free elementwise layers:
//   ReLU:      max(x, 0)
//   LeakyReLU: x if x > 0 else slope · x
//   Tanh:      tanh(x)
//   Sigmoid:   1 / (1 + exp(-x))
#pragma once

#include "nn/module.h"

namespace mg::nn {

// A layer that applies one differentiable function of x.
class Elementwise : public Module {
 public:
  using Fn = Tensor (*)(const Tensor&);
  Elementwise(std::string kind, Fn fn) : Module(std::move(kind)), fn_(fn) {}
  Tensor forward_with(const Tensor& x, ParamCursor&) override { return fn_(x); }
  bool supports_task_stacks() const override { return true; }
  using Module::forward;

 private:
  Fn fn_;
};

class ReLU : public Elementwise {
 public:
  ReLU();
};
class Tanh : public Elementwise {
 public:
  Tanh();
};
class Sigmoid : public Elementwise {
 public:
  Sigmoid();
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.01) : Module("LeakyReLU"), slope_(slope) {}
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  bool supports_task_stacks() const override { return true; }
  using Module::forward;

 private:
  double slope_;
};

}  // namespace mg::nn
