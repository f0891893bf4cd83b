#include "meta/checkpointed_adapt.h"

#include <fmt/format.h>

#include <utility>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/task_group.h"

namespace mg::meta {

// Note [Checkpointed steps are bit-identical]
// The meta-gradient with checkpointed steps equals the full tape's bit for bit (float32
// and float64; tests/meta/test_checkpointed_adapt.cpp compares the bytes). Floating-point
// sums depend on their order, so this rests on three facts about grad() (autograd/grad.cpp):
//  1. A node's gradient is the sum of its consumers' contributions in the order the
//     reverse sweep meets them, i.e. by decreasing node id; the first is taken as is and
//     each later one added to the running sum (accumulate()).
//  2. Every consumer of θ'⁽ⁱ⁻¹⁾ on the full tape is recorded by step i: its forward, the
//     recorded backward of its inner gradient, and the update θ'⁽ⁱ⁾ = θ'⁽ⁱ⁻¹⁾ − α·g. The
//     recomputation runs the same code on the same values, so it records the same ops in
//     the same relative order (leaves bind at other ids, but leaves add nothing), and the
//     sweep from θ'⁽ⁱ⁾, seeded with ḡ⁽ⁱ⁾, sums the same terms in the same order as the full
//     sweep does once it reaches step i with the same ḡ⁽ⁱ⁾ in θ'⁽ⁱ⁾'s slot. By induction
//     from ḡ⁽ᵏ⁾ (the query's sweep, identical: the query reads θ'⁽ᵏ⁾ alone), every ḡ⁽ⁱ⁾ is
//     identical, and the θ gradient with it (step 1 starts from start(θ) as the full tape does).
//  3. α_j is read once per step (the update's α·g), so the full sweep adds its terms in
//     step order k, k − 1, …, 1, the first taken as is: backward() sums them the same way.
// The forward values are identical too: each step runs adapt(…, SecondOrder) for one
// step, recording its inner gradient exactly as the full loop does, and only then is
// its graph dropped. (Computing θ'⁽ⁱ⁾ without create_graph would save work, but a
// formula may take another kernel path when nothing is recorded (in-place sums, Note
// [donated gradients]): equal values today, but nothing would hold them equal.)
// In-place sums and donated gradients in the recorded-nothing sweeps do the same
// additions as add() into other memory; they change peaks, not bits.
//
// What the recomputation assumes of the support loss: that it is a function of θ'
// alone, evaluated twice per step. Nothing in nn/ draws random numbers in a forward
// (there is no dropout), and BatchNorm2d's Batch mode (MAML's) keeps no state; a
// forward that wrote state (BatchNormMode::Running in training mode) would write it
// twice per step, and a random op would need its generator's state saved per step
// and replayed.
namespace {

// Fresh leaves on this thread's tape sharing the storage of `values`.
std::vector<Tensor> leaves_of(const std::vector<Tensor>& values) { return thread_aliases(values); }

}  // namespace

CheckpointedAdapt::CheckpointedAdapt(SupportLoss support_loss, AdaptStart start, std::span<const Tensor> theta,
                                     const InnerLr& lr, int steps)
    : support_loss_(std::move(support_loss)),
      start_(std::move(start)),
      theta_(theta.begin(), theta.end()),
      lr_value_(lr.value),
      lr_per_tensor_(lr.per_tensor.begin(), lr.per_tensor.end()) {
  if (steps < 1)
    throw ValueError(fmt::format("checkpointed adapt: the number of inner steps must be >= 1, got {}", steps));
  if (!lr_per_tensor_.empty() && lr_per_tensor_.size() != theta_.size())
    throw ValueError(fmt::format("checkpointed adapt: {} learned inner learning rates for {} parameter tensors",
                                 lr_per_tensor_.size(), theta_.size()));
  std::vector<Tensor> current;
  for (int i = 1; i <= steps; ++i) {
    std::vector<Tensor> next;
    {
      TapeScope step;  // the step's graph goes as soon as its result is read off
      next = adapt(support_loss_, i == 1 ? start_(theta_) : leaves_of(current), {lr_value_, lr_per_tensor_}, 1,
                   AdaptMode::SecondOrder);
      for (Tensor& t : next) t = t.detach();
    }
    if (i < steps) inputs_.push_back(next);
    current = std::move(next);
  }
  adapted_ = leaves_of(current);
}

std::vector<Tensor> CheckpointedAdapt::backward(std::span<const Tensor> grad_adapted) const {
  const std::size_t n = theta_.size();
  if (grad_adapted.size() != n)
    throw ValueError(fmt::format("checkpointed adapt: {} gradients for {} adapted tensors", grad_adapted.size(), n));
  std::vector<Tensor> g(grad_adapted.begin(), grad_adapted.end());  // ḡ⁽ⁱ⁾
  std::vector<Tensor> g_alpha(lr_per_tensor_.size());
  const EnableGradGuard recording;  // the recomputed step is recorded, to be differentiated
  for (std::size_t i = inputs_.size() + 1; i >= 1; --i) {
    TapeScope step;  // one step's graph alive at a time
    const std::vector<Tensor> from = i == 1 ? theta_ : leaves_of(inputs_[i - 2]);
    const std::vector<Tensor> theta_i =
        adapt(support_loss_, i == 1 ? start_(from) : from, {lr_value_, lr_per_tensor_}, 1, AdaptMode::SecondOrder);
    std::vector<Tensor> outputs, seeds;
    for (std::size_t j = 0; j < n; ++j) {
      if (!g[j].defined()) continue;
      outputs.push_back(theta_i[j]);
      seeds.push_back(g[j]);
    }
    if (outputs.empty()) {  // nothing flows further back: every earlier term is zero
      g.assign(n, Tensor{});
      break;
    }
    std::vector<Tensor> wrt = from;
    wrt.insert(wrt.end(), lr_per_tensor_.begin(), lr_per_tensor_.end());
    std::vector<Tensor> r = grad(outputs, wrt, {.allow_unused = true, .grad_outputs = std::move(seeds)});
    const NoGradGuard values;
    for (std::size_t j = 0; j < n; ++j) g[j] = r[j].defined() ? r[j].detach() : Tensor{};
    for (std::size_t j = 0; j < g_alpha.size(); ++j) {
      const Tensor& c = r[n + j];  // Note [Checkpointed steps are bit-identical], 3
      if (c.defined()) g_alpha[j] = g_alpha[j].defined() ? add(g_alpha[j], c) : c.detach();
    }
  }
  const NoGradGuard values;
  std::vector<Tensor> out(n + g_alpha.size());
  for (std::size_t j = 0; j < n; ++j) out[j] = g[j].defined() ? g[j] : zeros_like(theta_[j]);
  for (std::size_t j = 0; j < g_alpha.size(); ++j)
    out[n + j] = g_alpha[j].defined() ? g_alpha[j] : zeros_like(lr_per_tensor_[j]);
  return out;
}

GroupResult checkpointed_query_gradient(const TaskGroup& group, std::span<const Tensor> theta, const InnerLr& lr,
                                        int steps) {
  const CheckpointedAdapt theta_i([&group](std::span<const Tensor> t) { return group.support_loss(t); },
                                  [&group](std::span<const Tensor> t) { return group.start(t); }, theta, lr, steps);
  std::vector<Tensor> grad_adapted;
  double loss = 0.0;
  std::vector<double> metrics;
  {
    TapeScope query;  // the query's graph is freed before the steps are recomputed
    const Tensor prediction = group.predict_query(theta_i.adapted());
    const Tensor query_loss = group.query_loss(prediction);
    grad_adapted = grad({query_loss}, theta_i.adapted(), {.allow_unused = true});
    loss = query_loss.item();
    metrics = group.query_metrics(prediction);
  }
  return {theta_i.backward(grad_adapted), loss, {metrics}};
}

}  // namespace mg::meta
