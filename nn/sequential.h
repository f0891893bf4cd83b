// Sequential: f(x) = f_k(... f_2(f_1(x))). Children are named "0", "1", ... so
// parameters are "0.weight", "0.bias", "3.weight", ... in layer order, and the
// functional forward hands each layer its slice of the parameter list.
#pragma once

#include <memory>
#include <utility>

#include "nn/module.h"

namespace mg::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;

  Sequential& add(std::unique_ptr<Module> layer);
  // Constructs a layer in place: net.emplace<Linear>(1, 40, gen).
  template <class Layer, class... Args>
  Sequential& emplace(Args&&... args) {
    return add(std::make_unique<Layer>(std::forward<Args>(args)...));
  }

  std::size_t size() const { return num_children(); }
  Module& operator[](std::size_t i) { return child(i); }

  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  // When every layer supports it.
  bool supports_task_stacks() const override;
  using Module::forward;
};

}  // namespace mg::nn
