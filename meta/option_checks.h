// The checks every learner makes of its inner-loop options, in one place: MAML,
// Meta-SGD, ANIL, Reptile and evaluation each take inner steps, an inner rate and
// (the learners) task stacks, and reject the same bad values with the same words.
// `who` begins the message ("maml: inner_steps must be >= 0, got -1").
#pragma once

#include <cstdint>
#include <string_view>

namespace mg::meta {

// steps >= at_least (0 for MAML and evaluation: no adaptation; Reptile needs 1).
void check_inner_steps(std::string_view who, int steps, int at_least = 0);
// stacks >= 0 (tasks stacked per group; Note [Task stacks] in nn/module.h).
void check_task_stacks(std::string_view who, int stacks);

// What an inner rate may be besides finite.
enum class RateBound {
  Any,          // Meta-SGD: the start of learned rates, which may go negative
  NonNegative,  // MAML, ANIL: 0 means no adaptation
  Positive,     // Reptile: a zero rate never moves
};
void check_inner_lr(std::string_view who, double lr, RateBound bound = RateBound::NonNegative);

// Reptile's outer step size ε (finite and > 0) and the iterations over which it anneals
// to 0 (>= 0; 0 keeps it constant): "reptile: epsilon must be finite and > 0, got 0".
void check_reptile_epsilon(std::string_view who, double epsilon, std::int64_t anneal_iterations);
// ε at `iteration`: epsilon · (1 − iteration / anneal_iterations), never below 0;
// epsilon itself when anneal_iterations is 0 (Reptile §5's linear annealing).
double annealed_epsilon(double epsilon, std::int64_t anneal_iterations, std::int64_t iteration);

// Checkpointed inner steps (meta/checkpointed_adapt.h) recompute a second-order graph;
// first order has none to recompute: "maml: checkpoint_steps is for second order, …".
void check_checkpoint_steps(std::string_view who, bool checkpoint_steps, bool first_order);

}  // namespace mg::meta
