// --parallel (tools/thread_plan.h): how a run's threads are spent.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "tools/thread_plan.h"

TEST_SUITE("tools") {
  TEST_CASE("plan_threads: auto splits ops for omniglot and tasks elsewhere; tasks and ops as asked") {
    using mg::tools::plan_threads;
    using mg::tools::ThreadPlan;
    const ThreadPlan conv = plan_threads("train", "auto", "omniglot", 2);
    CHECK((conv.task_threads == 1 && conv.op_threads == 2));
    CHECK(conv.describe() == "2 threads over each op's work");
    const ThreadPlan mlp = plan_threads("train", "auto", "sinusoid", 2);
    CHECK((mlp.task_threads == 2 && mlp.op_threads == 1));
    CHECK(mlp.describe() == "2 threads over tasks");
    const ThreadPlan tasks = plan_threads("eval", "tasks", "omniglot", 3);
    CHECK((tasks.task_threads == 3 && tasks.op_threads == 1));
    const ThreadPlan ops = plan_threads("eval", "ops", "clinc150", 2);
    CHECK((ops.task_threads == 1 && ops.op_threads == 2));
    CHECK(plan_threads("train", "ops", "omniglot", 1).describe() == "1 thread");
    CHECK_THROWS_WITH_AS(plan_threads("eval", "both", "omniglot", 2),
                         "eval: --parallel must be auto, tasks or ops, got 'both'", mg::ValueError);
  }
}
