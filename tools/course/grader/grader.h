// The course's autograders, one per assignment (tools/course/README.md). Each runs
// its checks on the function it is given and returns a Report; an exception thrown
// by the student's code fails the check it happened in, with its message.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/adapt.h"
#include "tools/course/grader/report.h"

namespace mg::course {

using SoftplusBackward = Tensor (*)(const Tensor& x, const Tensor& result, const Tensor& grad);
using MamlInnerLoop = std::vector<Tensor> (*)(const meta::SupportLoss&, std::span<const Tensor> theta, double inner_lr,
                                              int steps);
using ReptileOuterUpdate = std::vector<Tensor> (*)(std::span<const Tensor> theta,
                                                   const std::vector<std::vector<Tensor>>& adapted, double epsilon);
struct LearnedLr {
  std::vector<Tensor> (*init)(std::span<const Tensor> theta, double initial_lr) = nullptr;
  std::vector<Tensor> (*step)(const meta::SupportLoss&, std::span<const Tensor> theta,
                              std::span<const Tensor> alpha) = nullptr;
};

// Assignment 4's training run: Meta-SGD on sinusoids (K = 10, one inner step, the
// paper's 1-40-40-1 MLP), then the mean post-step MSE on held-out tasks.
struct LearnedLrTraining {
  int iterations = 1500;
  int meta_batch = 10;
  double initial_lr = 0.01;
  double outer_lr = 1e-3;
  int test_tasks = 200;
  double target_mse = 1.0;  // the stated goal (README): the mean MSE must be at most this
};

Report grade_softplus_backward(SoftplusBackward backward);
Report grade_maml_inner_loop(MamlInnerLoop inner_loop);
Report grade_reptile_outer_update(ReptileOuterUpdate update);
Report grade_learned_lr(const LearnedLr& learned_lr, const LearnedLrTraining& training = {});

}  // namespace mg::course
