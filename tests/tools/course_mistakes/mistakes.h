// Typical wrong answers to the course's assignments (tools/course), each in a
// namespace of its own, for tests/tools/test_course.cpp: every grader must name them.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/adapt.h"

namespace mg::course::mistakes {

// Assignment 1, softplus's backward (softplus_mistakes.cpp).
Tensor softplus_wrong_sign(const Tensor& x, const Tensor& result, const Tensor& grad);
Tensor softplus_detached(const Tensor& x, const Tensor& result, const Tensor& grad);
Tensor softplus_no_grad(const Tensor& x, const Tensor& result, const Tensor& grad);
Tensor softplus_overflows(const Tensor& x, const Tensor& result, const Tensor& grad);

// Assignment 2, MAML's inner loop (maml_mistakes.cpp).
using Theta = std::span<const Tensor>;
std::vector<Tensor> maml_no_create_graph(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps);
std::vector<Tensor> maml_uphill(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps);
std::vector<Tensor> maml_one_step(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps);
std::vector<Tensor> maml_gradient_at_theta(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps);
std::vector<Tensor> maml_detached(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps);

// Assignment 3, Reptile's outer update (reptile_mistakes.cpp).
using Adapted = std::vector<std::vector<Tensor>>;
std::vector<Tensor> reptile_wrong_way(Theta theta, const Adapted& adapted, double epsilon);
std::vector<Tensor> reptile_sum(Theta theta, const Adapted& adapted, double epsilon);
std::vector<Tensor> reptile_no_epsilon(Theta theta, const Adapted& adapted, double epsilon);
std::vector<Tensor> reptile_in_place(Theta theta, const Adapted& adapted, double epsilon);

// Assignment 4, the learned inner rate (learned_lr_mistakes.cpp).
std::vector<Tensor> lr_init_not_learned(Theta theta, double initial_lr);
std::vector<Tensor> lr_init_scalar(Theta theta, double initial_lr);
std::vector<Tensor> lr_init_right(Theta theta, double initial_lr);
std::vector<Tensor> lr_step_detached_alpha(const meta::SupportLoss& loss, Theta theta, Theta alpha);
std::vector<Tensor> lr_step_right(const meta::SupportLoss& loss, Theta theta, Theta alpha);

}  // namespace mg::course::mistakes
