// Weight initialisation, in place, from an explicit seeded Generator (so a run
// is reproducible from its seed). For a weight of shape [out, in, k...]:
//   fan_in = in * prod(k),  fan_out = out * prod(k)
//
//   kaiming_uniform_(w, a):  U(-b, b),  b = gain * sqrt(3 / fan_in),  gain = sqrt(2 / (1 + a²))
//     PyTorch's default for Linear and Conv2d uses a = sqrt(5), i.e. b = 1 / sqrt(fan_in)
//     (He et al. 2015, with PyTorch's choice of a).
//   xavier_uniform_(w, gain): U(-b, b),  b = gain * sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
//   zeros_(t): 0
// Values are drawn in row-major order; the tensor's storage version is bumped.
#pragma once

#include <cstdint>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace mg::nn {

struct Fans {
  std::int64_t in = 0, out = 0;
};
// Fans of a weight [out, in, k...]; ValueError for fewer than 2 dimensions.
Fans fans(const Shape& weight);

void uniform_(Tensor& t, double lo, double hi, Generator& gen);
void kaiming_uniform_(Tensor& w, Generator& gen, double a = 0.0);
void xavier_uniform_(Tensor& w, Generator& gen, double gain = 1.0);
void zeros_(Tensor& t);

// PyTorch's default for Linear / Conv2d: weight kaiming_uniform_(a = sqrt(5)),
// bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in.
void default_init_(Tensor& weight, Tensor& bias, Generator& gen);

}  // namespace mg::nn
