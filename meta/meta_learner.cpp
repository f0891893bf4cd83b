#include "meta/meta_learner.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::meta {

MetaLearner::MetaLearner(nn::Module& model, Objective objective, int meta_batch, int threads)
    : model_(model), objective_(std::move(objective)), meta_batch_(meta_batch), threads_(threads) {
  if (meta_batch < 1) throw ValueError(fmt::format("meta-learner: meta_batch must be >= 1, got {}", meta_batch));
  if (threads < 1) throw ValueError(fmt::format("meta-learner: threads must be >= 1, got {}", threads));
}

void MetaLearner::train(const data::TaskSource& tasks, std::int64_t iterations, const StepCallback& on_step,
                        std::int64_t first_iteration) {
  const auto batch = static_cast<std::size_t>(meta_batch_);
  for (std::int64_t it = first_iteration; it < first_iteration + iterations; ++it) {
    const std::vector<data::Task> batch_tasks =
        data::sample_tasks(tasks, static_cast<std::uint64_t>(it) * batch, batch, threads_);
    const StepStats stats = step(batch_tasks, it);
    if (on_step) on_step(it, stats);
  }
}

EvalResult MetaLearner::test(const data::TaskSource& tasks, const EvalOptions& options) const {
  return evaluate(model_, model_.parameters(), objective_, test_inner_lr(), tasks, options);
}

}  // namespace mg::meta
