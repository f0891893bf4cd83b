#include "nn/init.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "autograd/creation.h"
#include "autograd/errors.h"

namespace mg::nn {

namespace {
// Copies `values` into t's storage: an in-place write, visible to every handle of t.
void overwrite(Tensor& t, const Tensor& values) {
  std::memcpy(t.mutable_raw_data(), values.raw_data(), t.nbytes());
}
}  // namespace

Fans fans(const Shape& w) {
  if (w.ndim() < 2)
    throw ValueError(fmt::format("init: fans need a weight of at least 2 dimensions [out, in, ...], got {}", w.str()));
  std::int64_t receptive = 1;
  for (int i = 2; i < w.ndim(); ++i) receptive *= w[i];
  return {w[1] * receptive, w[0] * receptive};
}

void uniform_(Tensor& t, double lo, double hi, Generator& gen) { overwrite(t, uniform(t.shape(), lo, hi, gen, t.dtype())); }

void kaiming_uniform_(Tensor& w, Generator& gen, double a) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fans(w.shape()).in));
  uniform_(w, -bound, bound, gen);
}

void xavier_uniform_(Tensor& w, Generator& gen, double gain) {
  const Fans f = fans(w.shape());
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out));
  uniform_(w, -bound, bound, gen);
}

void zeros_(Tensor& t) { overwrite(t, zeros(t.shape(), t.dtype())); }

void default_init_(Tensor& weight, Tensor& bias, Generator& gen) {
  kaiming_uniform_(weight, gen, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fans(weight.shape()).in));
    uniform_(bias, -bound, bound, gen);
  }
}

}  // namespace mg::nn
