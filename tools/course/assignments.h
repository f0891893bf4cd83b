// The four functions the course's students write, one per assignment. Each
// assignment folder holds a skeleton that defines its function with TODOs; the
// reference solutions are in tools/course/solutions/. A grader (grader/grader.h)
// takes the function as a pointer, so it grades a student's file, the reference,
// or a test's deliberately wrong version alike.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/adapt.h"

namespace mg::course {

// 1. softplus(x) = log(1 + e^x). Return d<grad, softplus(x)>/dx, written with
//    differentiable ops only (it is recorded when the sweep has create_graph).
Tensor softplus_backward(const Tensor& x, const Tensor& result, const Tensor& grad);

// 2. MAML's inner loop: θ' after `steps` steps θ' ← θ' − α ∇_θ' L_support(θ'), as a
//    differentiable function of θ (full second order).
std::vector<Tensor> maml_inner_loop(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    double inner_lr, int steps);

// 3. Reptile's outer update: θ + ε · (1/n) Σ_i (W_i − θ), W_i = adapted[i] (one tensor per θ_j).
std::vector<Tensor> reptile_outer_update(std::span<const Tensor> theta,
                                         const std::vector<std::vector<Tensor>>& adapted, double epsilon);

// 4. Meta-SGD: the learned inner rates α (one per element of θ), starting at
//    `initial_lr`, and one inner step θ' = θ − α ∘ ∇_θ L_support(θ).
std::vector<Tensor> init_inner_lrs(std::span<const Tensor> theta, double initial_lr);
std::vector<Tensor> learned_lr_step(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    std::span<const Tensor> alpha);

}  // namespace mg::course
