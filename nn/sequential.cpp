#include "nn/sequential.h"

#include <string>

namespace mg::nn {

Sequential& Sequential::add(std::unique_ptr<Module> layer) {
  add_module(std::to_string(num_children()), std::move(layer));
  return *this;
}

Tensor Sequential::forward_with(const Tensor& x, ParamCursor& params) {
  Tensor h = x;
  for (std::size_t i = 0; i < num_children(); ++i) h = child(i).run(h, params);
  return h;
}

bool Sequential::supports_task_stacks() const {
  for (std::size_t i = 0; i < num_children(); ++i)
    if (!child(i).supports_task_stacks()) return false;
  return true;
}

}  // namespace mg::nn
