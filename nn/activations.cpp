#include "nn/activations.h"

#include "autograd/ops.h"

namespace mg::nn {

ReLU::ReLU() : Elementwise("ReLU", [](const Tensor& x) { return relu(x); }) {}
Tanh::Tanh() : Elementwise("Tanh", [](const Tensor& x) { return tanh(x); }) {}
Sigmoid::Sigmoid() : Elementwise("Sigmoid", [](const Tensor& x) { return sigmoid(x); }) {}

Tensor LeakyReLU::forward_with(const Tensor& x, ParamCursor&) { return leaky_relu(x, slope_); }

}  // namespace mg::nn
