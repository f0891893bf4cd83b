// Prototypical Networks (Snell et al. 2017), Algorithm 1 (one episode):
//
//   Input: D_i = support set (x, y), y ∈ {1 … N_C};  D'_i = query set
//   1  for k in 1 … N_C:  c_k = (1/|S_k|) Σ_{(x, y) ∈ S_k} f_φ(x)      S_k: the support examples of class k
//   2  for each query (x, y):
//        p_φ(y = k | x) = softmax_k(−d(f_φ(x), c_k)),  d(z, z') = ‖z − z'‖²
//   3  J(φ) = mean over the queries of −log p_φ(y | x)
//   4  φ ← φ − β ∇_φ J                      (here: Adam on the mean over a batch of episodes)
//
// Symbols → code: f_φ = embed() (the body, Note [Body and head]), φ = the body's
// parameters, c_k = prototypes(), −d = prototype_logits(), J = the objective's
// cross-entropy on those logits, β = options_.lr. The loop over a batch of
// episodes and the sum are the meta-batch driver's (Note [Meta-batch driver]).
//
// The squared distance is expanded, ‖z‖² − 2 z·c + ‖c‖², so the [m, N_C] matrix of
// distances is one matmul and two row norms instead of an [m, N_C, D] difference
// (the paper's §2.3: a squared Euclidean distance makes the classifier linear in z).
#include "meta/protonet.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/driver.h"
#include "nn/adam.h"

namespace mg::meta {

Tensor prototypes(const Tensor& embedding, const Tensor& labels, std::int64_t ways) {
  if (embedding.ndim() != 2 || labels.ndim() != 1 || labels.size(0) != embedding.size(0))
    throw ShapeError(fmt::format("prototypes: need [n, D] embeddings and [n] labels: embedding is {}, labels is {}",
                                 embedding.shape().str(), labels.shape().str()));
  std::vector<double> count(static_cast<std::size_t>(ways), 0.0);
  const Tensor y = labels.to(DType::I64);
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    const std::int64_t k = y.data<std::int64_t>()[i];
    if (k < 0 || k >= ways) throw ValueError(fmt::format("prototypes: label {} is outside [0, {})", k, ways));
    count[static_cast<std::size_t>(k)] += 1.0;
  }
  std::vector<double> inverse(count.size());
  for (std::size_t k = 0; k < count.size(); ++k) {
    if (count[k] == 0.0) throw ValueError(fmt::format("prototypes: class {} has no support example", k));
    inverse[k] = 1.0 / count[k];
  }
  // Line 1: Σ over S_k by scatter-adding the rows into their class, then / |S_k|.
  const Tensor sums = index_add(zeros({ways, embedding.size(1)}, embedding.dtype()), 0, y, embedding);
  return sums * from_vector(inverse, {ways, 1}).to(embedding.dtype());
}

Tensor prototype_logits(const Tensor& queries, const Tensor& prototypes) {
  if (queries.ndim() != 2 || prototypes.ndim() != 2 || queries.size(1) != prototypes.size(1))
    throw ShapeError(fmt::format("prototype logits: embedding widths differ: queries is {}, prototypes is {}",
                                 queries.shape().str(), prototypes.shape().str()));
  // −‖z − c‖² = 2 z·c − ‖z‖² − ‖c‖²: [m, 1] and [1, N_C] broadcast over the [m, N_C] products.
  const Tensor zz = sum(queries * queries, {1}, true);
  const Tensor cc = reshape(sum(prototypes * prototypes, {1}), {1, prototypes.size(0)});
  return matmul(queries, prototypes, false, true) * 2.0 - zz - cc;
}

ProtoNet::ProtoNet(nn::Sequential& model, Objective objective, const ProtoNetOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, 0),
      net_(model),
      options_(options),
      split_(split_body_head(model, "protonet")),
      adam_(std::make_unique<nn::Adam>(model.parameters(), nn::AdamOptions{.lr = options.lr})) {
  if (!this->objective().higher_is_better)
    throw ValueError("protonet: prototypes classify; it needs a classification objective, not regression");
}

Tensor ProtoNet::episode_logits(const data::Task& task, std::span<const Tensor> phi) const {
  std::int64_t ways = 0;  // N_C: labels are 0 … N_C − 1 (datasets/episodes.h)
  const Tensor y = task.support_y.to(DType::I64);
  for (std::int64_t i = 0; i < y.numel(); ++i) ways = std::max(ways, y.data<std::int64_t>()[i] + 1);
  const Tensor c = prototypes(embed(net_, split_, task.support_x, phi), task.support_y, ways);  // line 1
  return prototype_logits(embed(net_, split_, task.query_x, phi), c);                           // line 2
}

GroupResult ProtoNet::task_step(const GroupAt& at) const {
  const data::Task& task = at.tasks[0];
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const Tensor logits = episode_logits(task, theta);
  const Tensor loss = objective().loss(logits, task.query_y);  // line 3
  std::vector<Tensor> g = detached_gradient(loss, theta);
  NoGradGuard no_grad;
  return {std::move(g), loss.item(), {{objective().metric(logits, task.query_y)}}};
}

std::vector<Tensor> ProtoNet::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.mean(); }

// Line 4: φ ← φ − β·Adam(∇J); the head's gradient is 0, so Adam leaves it as it is.
void ProtoNet::outer_update(const std::vector<Tensor>& gradient, std::int64_t) { adam_->step(gradient); }

EvalResult ProtoNet::test(const data::TaskSource& tasks, const EvalOptions& options) const {
  if (options.num_tasks < 1)
    throw ValueError(fmt::format("protonet: num_tasks must be >= 1, got {}", options.num_tasks));
  const auto n = static_cast<std::size_t>(options.num_tasks);
  std::vector<std::pair<std::size_t, std::size_t>> one_each;
  for (std::size_t i = 0; i < n; ++i) one_each.emplace_back(i, i + 1);
  const std::vector<Tensor> theta = model().parameters();
  // The driver over single episodes, each sampled by its worker, scored in task order, split
  // over the job's ranks like every evaluation.
  const BatchResult scored = run_batch(n, one_each, options.threads, 1, [&](std::size_t i) {
    const data::Task task = tasks.sample(options.first_task + i);
    TapeScope scope;
    NoGradGuard no_grad;
    return GroupResult{{}, 0.0, {{objective().metric(episode_logits(task, theta), task.query_y)}}};
  }, over_ranks(options).communicator);
  EvalResult result;
  result.metric_name = objective().metric_name;
  result.steps = {0};
  result.metric = {summarize(scored.metrics[0])};
  return result;
}

}  // namespace mg::meta
