// --parallel (tools/thread_plan.h): how a run's threads are spent.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "tools/thread_plan.h"

TEST_SUITE("tools") {
  TEST_CASE("plan_threads: auto spends the threads on tasks unless ops come first; tasks and ops as asked") {
    using mg::tools::plan_threads;
    using mg::tools::ThreadPlan;
    const ThreadPlan joint = plan_threads("train", "auto", true, 2);  // e.g. the pretrained classifier
    CHECK((joint.task_threads == 1 && joint.op_threads == 2));
    CHECK(joint.describe() == "2 threads over each op's work");
    const ThreadPlan over_tasks = plan_threads("train", "auto", false, 2);
    CHECK((over_tasks.task_threads == 2 && over_tasks.op_threads == 1));
    CHECK(over_tasks.describe() == "2 threads over tasks");
    const ThreadPlan tasks = plan_threads("eval", "tasks", true, 3);  // asked for: ops_first does not matter
    CHECK((tasks.task_threads == 3 && tasks.op_threads == 1));
    const ThreadPlan ops = plan_threads("eval", "ops", false, 2);
    CHECK((ops.task_threads == 1 && ops.op_threads == 2));
    CHECK(plan_threads("train", "ops", false, 1).describe() == "1 thread");
    CHECK_THROWS_WITH_AS(plan_threads("eval", "both", false, 2),
                         "eval: --parallel must be auto, tasks or ops, got 'both'", mg::ValueError);
  }
}
