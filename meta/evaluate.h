// The few-shot evaluation protocol of the papers (Finn et al. 2017, §5;
// Nichol et al. 2018, §5): for each of N test tasks drawn from fixed seeds,
// start from the meta-learned θ, take k gradient steps on the task's support
// set, and score the adapted model on its query set. Report the mean over
// tasks with a 95% confidence interval, mean ± 1.96·s/√N (s the sample standard
// deviation), with N ≥ 600.
//
// Scores are reported after several step counts from one adaptation run (for
// the sinusoid figure: after 0, 1 and 10 steps).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/task.h"
#include "meta/adapt.h"
#include "meta/objective.h"
#include "nn/module.h"

namespace mg::meta {

class Communicator;
class TaskGroup;

struct EvalOptions {
  int num_tasks = 600;
  std::uint64_t first_task = 0;     // tasks first_task … first_task + num_tasks − 1 of the source
  int inner_steps = 10;             // k at test time
  std::vector<int> report_steps = {};  // step counts to score after; empty: {0, inner_steps}
  int threads = 1;
  // Tasks adapted at once as a stack when the model supports it (meta/task_group.h);
  // 1: one by one. The scores do not depend on `threads`.
  int tasks_per_stack = 50;
  // The ranks of a job that share the tasks (null: this process alone); the scores do
  // not depend on their number (Note [Meta-batches over ranks], meta/rank_batch.h).
  Communicator* communicator = nullptr;
};

struct Summary {
  double mean = 0.0;
  double ci95 = 0.0;  // half-width: 1.96·s/√n
  int n = 0;
};

// mean ± 1.96·s/√n of `values` (s with the n − 1 denominator; 0 for n < 2).
Summary summarize(const std::vector<double>& values);

struct EvalResult {
  std::string metric_name = {};
  std::vector<int> steps = {};         // the report_steps, ascending
  std::vector<Summary> metric = {};    // one per entry of steps
};

// Evaluates `theta` (in model.parameters() order) on the source's tasks.
EvalResult evaluate(nn::Module& model, const std::vector<Tensor>& theta, const Objective& objective,
                    const InnerLrSetting& inner_lr, const data::TaskSource& tasks, const EvalOptions& options);

// How a learner with its own inner loop adapts a group of test tasks: rows[r] holds the
// metric of each of the group's tasks after steps[r] inner steps (steps ascending).
using ScoreGroup =
    std::function<std::vector<std::vector<double>>(const TaskGroup& group, std::span<const int> steps)>;
// The same protocol (tasks, stacks, threads, ranks, checks) with `score` as the inner loop
// (MAML++'s per-step rates and batch-norm tensors, meta/maml_pp.h); evaluate() is this with
// an Adaptation of θ under `inner_lr`.
EvalResult evaluate_with(nn::Module& model, const Objective& objective, const data::TaskSource& tasks,
                         const EvalOptions& options, const ScoreGroup& score);

}  // namespace mg::meta
