#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/errors.h"
#include "meta/option_checks.h"

using namespace mg;
using namespace mg::meta;

TEST_SUITE("option_checks") {

TEST_CASE("inner steps: the bound is the learner's") {
  CHECK_NOTHROW(check_inner_steps("maml", 0));
  CHECK_NOTHROW(check_inner_steps("reptile", 1, 1));
  CHECK_THROWS_WITH_AS(check_inner_steps("maml", -1), "maml: inner_steps must be >= 0, got -1", ValueError);
  CHECK_THROWS_WITH_AS(check_inner_steps("reptile", 0, 1), "reptile: inner_steps must be >= 1, got 0", ValueError);
}

TEST_CASE("task stacks must not be negative") {
  CHECK_NOTHROW(check_task_stacks("anil", 0));
  CHECK_NOTHROW(check_task_stacks("anil", 4));
  CHECK_THROWS_WITH_AS(check_task_stacks("anil", -2), "anil: task_stacks must be >= 0, got -2", ValueError);
}

TEST_CASE("inner rate: finite, and as signed as the learner allows") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  CHECK_NOTHROW(check_inner_lr("metasgd", -0.5, RateBound::Any));
  CHECK_NOTHROW(check_inner_lr("maml", 0.0));
  CHECK_NOTHROW(check_inner_lr("reptile", 0.1, RateBound::Positive));
  CHECK_THROWS_WITH_AS(check_inner_lr("metasgd", inf, RateBound::Any), "metasgd: inner_lr must be finite, got inf",
                       ValueError);
  CHECK_THROWS_WITH_AS(check_inner_lr("maml", -0.1), "maml: inner_lr must be finite and >= 0, got -0.1", ValueError);
  CHECK_THROWS_WITH_AS(check_inner_lr("maml", nan), "maml: inner_lr must be finite and >= 0, got nan", ValueError);
  CHECK_THROWS_WITH_AS(check_inner_lr("reptile", 0.0, RateBound::Positive),
                       "reptile: inner_lr must be finite and > 0, got 0", ValueError);
}

}  // TEST_SUITE
