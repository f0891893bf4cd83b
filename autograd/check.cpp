#include "autograd/check.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

namespace mg {

namespace {

double dot(const Tensor& a, const Tensor& b) {
  const double* pa = a.data<double>();
  const double* pb = b.data<double>();
  double s = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) s += pa[i] * pb[i];
  return s;
}

// Fresh leaves with the inputs' values; those that required grad still do.
std::vector<Tensor> fresh_leaves(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  for (const Tensor& x : inputs) {
    Tensor c = x.clone();
    if (x.requires_grad()) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

void check_inputs(std::string_view what, const std::vector<Tensor>& inputs) {
  bool any = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype() == DType::F32)
      throw DTypeError(fmt::format("{}: input {} is f32; checks need f64 inputs (use .to(DType::F64))", what, i));
    any = any || inputs[i].requires_grad();
  }
  if (!any) throw GradError(fmt::format("{}: no input requires grad; mark the inputs to check with requires_grad_()", what));
}

CheckResult check(std::string_view what, const CheckedFunction& f, const std::vector<Tensor>& inputs,
                  const CheckOptions& opt) {
  check_inputs(what, inputs);
  TapeScope scope;
  Generator gen(opt.seed);
  std::vector<Tensor> xs = fresh_leaves(inputs);
  const Tensor y = f(xs);
  if (!y.defined() || y.dtype() != DType::F64)
    throw DTypeError(fmt::format("{}: {} must return a defined f64 tensor", what, opt.name));
  const Tensor v = randn(y.shape(), gen, DType::F64);

  std::vector<Tensor> wrt;
  for (const Tensor& x : xs)
    if (x.requires_grad()) wrt.push_back(x);
  // An output that does not require grad does not depend on the inputs: its gradient is zero
  // (as for the gradient of a function linear in its inputs, in gradgradcheck).
  std::vector<Tensor> analytic(wrt.size());
  if (y.requires_grad())
    analytic = grad({y}, wrt, {.create_graph = false, .allow_unused = true, .grad_outputs = {v}});

  CheckResult result;
  NoGradGuard no_grad;
  std::size_t k = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    const Tensor ana = analytic[k].defined() ? analytic[k] : zeros_like(xs[i]);
    ++k;
    std::vector<Tensor> probe = fresh_leaves(inputs);
    for (Tensor& p : probe) p = p.detach();
    double* px = probe[i].mutable_data<double>();
    for (std::int64_t j = 0; j < probe[i].numel(); ++j) {
      const double x0 = px[j];
      px[j] = x0 + opt.eps;
      const double up = dot(v, f(probe));
      px[j] = x0 - opt.eps;
      const double down = dot(v, f(probe));
      px[j] = x0;
      const double numeric = (up - down) / (2.0 * opt.eps);
      const double a = ana.data<double>()[j];
      const double err = std::abs(numeric - a);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!(err <= opt.atol + opt.rtol * std::abs(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format("{}: {}: input {}, element {}: numeric {:.9g} vs analytic {:.9g} (|diff| {:.3g})",
                                     what, opt.name, i, j, numeric, a, err);
      }
    }
  }
  return result;
}

}  // namespace

CheckResult gradcheck(const CheckedFunction& f, const std::vector<Tensor>& inputs, const CheckOptions& options) {
  return check("gradcheck", f, inputs, options);
}

CheckResult gradgradcheck(const CheckedFunction& f, const std::vector<Tensor>& inputs, const CheckOptions& options) {
  check_inputs("gradgradcheck", inputs);
  // Fix the directions once: v for the output of f, w for the gradients.
  Generator gen(options.seed + 1);
  Tensor v;
  std::vector<Tensor> w;
  {
    TapeScope scope;
    NoGradGuard no_grad;
    v = randn(f(fresh_leaves(inputs)).shape(), gen, DType::F64);
    for (const Tensor& x : inputs)
      if (x.requires_grad()) w.push_back(randn(x.shape(), gen, DType::F64));
  }
  // g(x) = <w, d<v, f(x)>/dx>, differentiable through create_graph.
  const CheckedFunction g = [&](const std::vector<Tensor>& xs) {
    EnableGradGuard on;
    std::vector<Tensor> leaves = xs;
    std::vector<Tensor> wrt;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!inputs[i].requires_grad()) continue;
      if (!leaves[i].requires_grad()) leaves[i] = leaves[i].detach().requires_grad_();
      wrt.push_back(leaves[i]);
    }
    const std::vector<Tensor> gs =
        grad({f(leaves)}, wrt, {.create_graph = true, .allow_unused = true, .grad_outputs = {v}});
    Tensor total = zeros({}, DType::F64);
    for (std::size_t k = 0; k < gs.size(); ++k)
      if (gs[k].defined()) total = total + sum(gs[k] * w[k]);
    return total;
  };
  CheckOptions inner = options;
  inner.seed = options.seed + 2;
  return check("gradgradcheck", g, inputs, inner);
}

}  // namespace mg
