// The training-free floor of few-shot text classification (../shared/REFERENCE.md,
// "Few-shot text"): no parameters, no training. Each text is the L2-normalised
// vector of its id counts, x̂ = count / ‖count‖₂ over the tokenizer's ids (words and
// hashed character n-grams; the pad id 0 skipped), and a query gets the label of the
// nearest support class mean in Euclidean distance,
//   ŷ_q = argmin_c ‖x̂_q − μ_c‖²,   μ_c = mean of x̂ᵢ over the support texts of class c
// (the first class on ties). It is scored like every learner (meta/evaluate.h): the
// query accuracy of each of the same test tasks, mean ± 95% CI. A learned model is
// worth having only where it beats this number on the same tasks.
#pragma once

#include <cstdint>

#include "datasets/task.h"
#include "meta/evaluate.h"

namespace mg::meta {

// The share of the query texts of `task` (support_x, query_x int64 [rows, L] token
// matrices, labels int64) that the nearest mean labels right. ValueError when x is
// not an int64 matrix.
double nearest_mean_accuracy(const data::Task& task);

// nearest_mean_accuracy over tasks first_task … first_task + num_tasks − 1 of `tasks`,
// as an EvalResult with one row, "accuracy" after 0 steps.
EvalResult evaluate_nearest_mean(const data::TaskSource& tasks, int num_tasks, std::uint64_t first_task = 0);

}  // namespace mg::meta
