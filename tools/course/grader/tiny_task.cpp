#include "tools/course/grader/tiny_task.h"

#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "nn/activations.h"
#include "nn/linear.h"

namespace mg::course {

TinyTask::TinyTask() {
  Generator gen(5);
  model.emplace<nn::Linear>(1, 8, gen).emplace<nn::Tanh>().emplace<nn::Linear>(8, 1, gen);
  model.to(DType::F64);
  const data::Task t = data::SinusoidTasks({.k_shot = 5, .q_query = 5, .seed = 3}).sample(0);
  task = {t.support_x.to(DType::F64), t.support_y.to(DType::F64), t.query_x.to(DType::F64),
          t.query_y.to(DType::F64)};
  theta = detach_all(model.parameters());
}

meta::SupportLoss TinyTask::support_loss() {
  return [this](std::span<const Tensor> t) { return objective.loss(model.forward(task.support_x, t), task.support_y); };
}

Tensor TinyTask::query_loss(std::span<const Tensor> theta_i) {
  return objective.loss(model.forward(task.query_x, theta_i), task.query_y);
}

std::vector<Tensor> TinyTask::leaves() const { return meta::thread_aliases(theta); }

std::vector<Tensor> TinyTask::reference(double inner_lr, int steps) {
  TapeScope scope;
  return detach_all(meta::adapt(support_loss(), leaves(), {inner_lr}, steps, meta::AdaptMode::Detached));
}

std::vector<Tensor> detach_all(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.defined() ? t.detach() : Tensor{});
  return out;
}

}  // namespace mg::course
