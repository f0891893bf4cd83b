#include "tools/thread_plan.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::tools {

std::string ThreadPlan::describe() const {
  if (op_threads > 1) return fmt::format("{} threads over each op's work", op_threads);
  if (task_threads > 1) return fmt::format("{} threads over tasks", task_threads);
  return "1 thread";
}

ThreadPlan plan_threads(std::string_view who, const std::string& parallel, bool ops_first, int threads) {
  if (parallel != "auto" && parallel != "tasks" && parallel != "ops")
    throw ValueError(fmt::format("{}: --parallel must be auto, tasks or ops, got '{}'", who, parallel));
  const bool ops = parallel == "ops" || (parallel == "auto" && ops_first);
  return ops ? ThreadPlan{1, threads} : ThreadPlan{threads, 1};
}

}  // namespace mg::tools
