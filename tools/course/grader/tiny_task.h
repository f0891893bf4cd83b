// The graders' small exact problem: a 1 -> 8 -> 1 tanh MLP in float64 and one
// sinusoid task (K = 5, Q = 5). Small and smooth, so answers compare to 1e-8.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/task.h"
#include "meta/adapt.h"
#include "meta/objective.h"
#include "nn/sequential.h"

namespace mg::course {

struct TinyTask {
  nn::Sequential model;
  data::Task task;
  meta::Objective objective = meta::regression();
  std::vector<Tensor> theta;  // the model's parameters as values (detached)

  TinyTask();
  // L(f_θ(support x), support y) for any θ in parameters() order.
  meta::SupportLoss support_loss();
  // L(f_θ(query x), query y).
  Tensor query_loss(std::span<const Tensor> theta_i);
  // Fresh leaves holding θ's values.
  std::vector<Tensor> leaves() const;
  // The library's θ' after `steps` SGD steps of size inner_lr (values).
  std::vector<Tensor> reference(double inner_lr, int steps);
};

// Detached copies of handles (values shared); an undefined tensor stays undefined.
std::vector<Tensor> detach_all(const std::vector<Tensor>& ts);

}  // namespace mg::course
