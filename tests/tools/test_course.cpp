// The course kit's graders (tools/course): each gives the reference solution full
// marks and names the typical mistakes (tests/tools/course_mistakes) in the check
// they break.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "tests/tools/course_mistakes/mistakes.h"
#include "tools/course/assignments.h"
#include "tools/course/grader/compare.h"
#include "tools/course/grader/grader.h"
#include "tools/course/grader/tiny_task.h"

using namespace mg;
using namespace mg::course;

namespace course_test {

// The check `name` of `r` failed and its feedback contains `text`; the score is not full.
void check_named(const Report& r, const std::string& name, const std::string& text) {
  const Check& c = r.check(name);
  CAPTURE(r.str());
  CHECK_FALSE(c.passed);
  CHECK(c.feedback.find(text) != std::string::npos);
  CHECK(r.score() < r.total());
}

void check_full_marks(const Report& r) {
  CAPTURE(r.str());
  CHECK(r.full_marks());
  CHECK(r.total() == 10);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace course_test

using namespace course_test;

TEST_SUITE("course") {
  TEST_CASE("a report sums its checks, prints them and finds them by name") {
    const Report r{"demo", {{"a", 3, true, "fine"}, {"b", 2, false, "hint"}}};
    CHECK(r.score() == 3);
    CHECK(r.total() == 5);
    CHECK_FALSE(r.full_marks());
    CHECK(r.check("b").feedback == "hint");
    CHECK(r.str() == "demo\n  [pass] 3/3 a: fine\n  [FAIL] 0/2 b: hint\nscore: 3/5\n");
    CHECK_THROWS_WITH_AS(r.check("c"), "report: demo has no check named 'c'", ValueError);
  }

  TEST_CASE("the graders' comparisons") {
    const Tensor a = from_vector(std::vector<double>{1.0, 2.0}, {2});
    CHECK(close(a, a + 1e-10));
    CHECK_FALSE(close(a, a + 1e-3));
    CHECK_FALSE(close(a, reshape(a, {2, 1})));
    CHECK(all_close(std::vector<Tensor>{a}, std::vector<Tensor>{a.clone()}));
    CHECK_FALSE(all_close(std::vector<Tensor>{a}, std::vector<Tensor>{a, a}));
    CHECK(all_finite(std::vector<Tensor>{a}));
    CHECK_FALSE(all_finite(std::vector<Tensor>{a / 0.0}));
    std::string error;
    CHECK(runs([] {}, error));
    CHECK_FALSE(runs([] { throw std::runtime_error("boom"); }, error));
    CHECK(error == "threw: boom");
  }

  TEST_CASE("the graders' tiny task: θ after 0 steps, a finite support loss") {
    TinyTask s;
    CHECK(all_close(s.reference(0.05, 0), s.theta, 0.0));
    CHECK_FALSE(all_close(s.reference(0.05, 1), s.theta));
    CHECK(std::isfinite(s.support_loss()(s.leaves()).item()));
    CHECK(std::isfinite(s.query_loss(s.leaves()).item()));
    CHECK(detach_all(s.leaves())[0].requires_grad() == false);
  }

  TEST_CASE("assignment 1: the reference backward gets full marks; four mistakes are named") {
    check_full_marks(grade_softplus_backward(softplus_backward));
    check_named(grade_softplus_backward(mistakes::softplus_wrong_sign), "gradcheck", "the sign is wrong");
    check_named(grade_softplus_backward(mistakes::softplus_detached), "gradgradcheck",
                "your backward is not recorded on the tape");
    CHECK(grade_softplus_backward(mistakes::softplus_detached).check("gradcheck").passed);
    check_named(grade_softplus_backward(mistakes::softplus_no_grad), "upstream gradient",
                "doubling grad did not double your result");
    check_named(grade_softplus_backward(mistakes::softplus_overflows), "large |x|", "e^x overflows");
    CHECK(grade_softplus_backward(mistakes::softplus_overflows).score() == 8);
  }

  TEST_CASE("assignment 2: the reference inner loop gets full marks; five mistakes are named") {
    check_full_marks(grade_maml_inner_loop(maml_inner_loop));
    const Report first_order = grade_maml_inner_loop(mistakes::maml_no_create_graph);
    check_named(first_order, "meta-gradient", "your meta-gradient is first order");
    CHECK(first_order.score() == 7);  // the values of θ' are right
    check_named(grade_maml_inner_loop(mistakes::maml_uphill), "one step", "you stepped uphill");
    check_named(grade_maml_inner_loop(mistakes::maml_one_step), "three steps", "you took one step, not `steps`");
    check_named(grade_maml_inner_loop(mistakes::maml_gradient_at_theta), "three steps",
                "each step needs the gradient at the current θ'");
    check_named(grade_maml_inner_loop(mistakes::maml_detached), "θ' depends on θ", "θ' was cut from the graph");
  }

  TEST_CASE("assignment 3: the reference update gets full marks; four mistakes are named") {
    check_full_marks(grade_reptile_outer_update(reptile_outer_update));
    check_named(grade_reptile_outer_update(mistakes::reptile_wrong_way), "one task, ε = 1",
                "θ moved away from the adapted weights");
    check_named(grade_reptile_outer_update(mistakes::reptile_sum), "four tasks, ε = 0.5",
                "you summed the task directions");
    check_named(grade_reptile_outer_update(mistakes::reptile_no_epsilon), "four tasks, ε = 0.5", "ε was ignored");
    check_named(grade_reptile_outer_update(mistakes::reptile_in_place), "inputs unchanged", "you wrote into θ");
  }

  TEST_CASE("assignment 4: the reference reaches the stated sinusoid MSE in the grader's run") {
    const auto start = std::chrono::steady_clock::now();
    const Report r = grade_learned_lr({init_inner_lrs, learned_lr_step});
    MESSAGE(r.str(), "graded in ", seconds_since(start), " s");
    check_full_marks(r);
  }

  TEST_CASE("assignment 4: a rate that is not meta-learned, a detached rate, a per-tensor rate are named") {
    const LearnedLrTraining short_run{.iterations = 20, .test_tasks = 20};
    const Report not_learned = grade_learned_lr({mistakes::lr_init_not_learned, learned_lr_step}, short_run);
    check_named(not_learned, "α's shape and start", "α is not meta-learned");
    check_named(not_learned, "sinusoid MSE", "α never changed during training: it is not meta-learned");
    const Report detached = grade_learned_lr({init_inner_lrs, mistakes::lr_step_detached_alpha}, short_run);
    check_named(detached, "meta-gradient", "the query loss does not depend on α");
    check_named(detached, "sinusoid MSE", "α never changed");
    check_named(grade_learned_lr({mistakes::lr_init_scalar, learned_lr_step}, short_run), "α's shape and start",
                "α_j must have θ_j's shape");
    // The mistake files' right halves are right: the checks above fail for the mistake alone.
    const Report right = grade_learned_lr({mistakes::lr_init_right, mistakes::lr_step_right}, short_run);
    CHECK(right.check("meta-gradient").passed);
    CHECK(right.check("α's shape and start").passed);
  }
}
