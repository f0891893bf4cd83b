// The elementwise operations, by name: shared by elementwise.h (the kernels on
// tensors) and elementwise_isa.h (the per-ISA loops, which see no tensors).
#pragma once

namespace mg::kernels {

enum class Binary { Add, Sub, Mul, Div, Greater, Equal };
enum class Unary { Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, Relu, Sign, AddScalar, MulScalar, Pow, LeakyRelu, Clamp,
                   InsideMask };

}  // namespace mg::kernels
