#include "tools/predict_memory.h"

#include <fmt/format.h>

#include "autograd/kernels/worker_pool.h"
#include "autograd/random.h"
#include "autograd/storage.h"
#include "meta/maml.h"
#include "nn/models.h"
#include "tools/experiment.h"

namespace mg::tools {

void check_predict_memory(const TrainConfig& c) {
  if (c.algo != "maml" && c.algo != "fomaml")
    config_error(fmt::format("--predict-memory covers --algo maml and fomaml, not {}", c.algo));
  if (c.dataset != "sinusoid" && c.dataset != "omniglot")
    config_error(fmt::format("--predict-memory covers --dataset sinusoid and omniglot, not {}", c.dataset));
  if (c.learn_inner_lr) config_error("--predict-memory does not cover --learn-inner-lr");
}

meta::MemoryPrediction predict_run_memory(const TrainConfig& c) {
  check_predict_memory(c);
  const bool omniglot = c.dataset == "omniglot";
  Generator gen(c.seed);  // the model experiment.cpp builds; only its shapes (and γ > 0) matter
  nn::Sequential model = omniglot ? nn::omniglot_conv4(*c.ways, gen, c.strided) : nn::sinusoid_mlp(gen);
  const std::int64_t ways = omniglot ? *c.ways : 1;  // a sinusoid task's K points are its examples
  meta::MemorySetting s;
  s.example = omniglot ? Shape({1, 28, 28}) : Shape({1});
  s.classification = omniglot;
  s.support = ways * *c.train_shots;
  s.query = ways * *c.queries;
  s.meta_batch = *c.meta_batch;
  s.task_stacks = meta::MamlOptions{}.task_stacks;  // what make_learner leaves it at
  s.inner_steps = *c.inner_steps;
  s.first_order = c.algo == "fomaml";
  s.op_threads = kernels::op_threads();  // train sets it from --parallel (tools/thread_plan.h)
  return meta::predict_maml_memory(model, s);
}

std::string memory_report(const TrainConfig& c) {
  const meta::MemoryPrediction p = predict_run_memory(c);
  const std::string tasks = c.dataset == "omniglot"
                                ? fmt::format("{}-way {}-shot, {} queries per class", *c.ways, *c.train_shots,
                                              *c.queries)
                                : fmt::format("{} support and {} query points", *c.train_shots, *c.queries);
  std::string out = fmt::format(
      "memory of one meta-iteration of {} on {} ({}; meta-batch {}, {} inner steps), predicted before running "
      "(tensor memory only, as --profile's peak; after the first iteration, when Adam's moments exist):\n\n{}",
      c.algo, c.dataset, tasks, *c.meta_batch, *c.inner_steps, p.table());
  if (*c.threads > 1)
    out += fmt::format("with --threads {}: up to {} task groups' working sets at once, at most {:.2f} MB (an upper "
                       "bound: the workers' peaks need not coincide; measured two-worker peaks lie 1-5 % below it)\n",
                       *c.threads, std::min<std::int64_t>(*c.threads, p.groups),
                       static_cast<double>(p.with_workers(*c.threads)) / (1 << 20));
  return out;
}

MemoryCheck measure_run_memory(const TrainConfig& c) {
  MemoryCheck m;
  m.predicted = predict_run_memory(c).total();
  if (c.dataset == "omniglot") checked_omniglot_root(c.data);
  const std::int64_t before = Storage::live_bytes();
  Experiment e = build_experiment(c);
  e.learner->train(*e.train_tasks, 1, {}, 0);
  Storage::start_peak_tracking();  // every thread's allocations: op threads' parts hold scratch too
  e.learner->train(*e.train_tasks, 1, {}, 1);
  m.measured = Storage::stop_peak_tracking() - before;
  return m;
}

std::string format_memory_check(const MemoryCheck& m) {
  const double mb = 1 << 20, measured = static_cast<double>(m.measured);
  const double off = m.measured > 0 ? 100.0 * static_cast<double>(m.predicted - m.measured) / measured : 0.0;
  return fmt::format("measured over the second meta-iteration, every thread's allocations: {:.2f} MB (predicted {:.2f} MB, "
                     "{:+.2f} %)\n",
                     measured / mb, static_cast<double>(m.predicted) / mb, off);
}

}  // namespace mg::tools
