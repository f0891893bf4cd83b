// metalearn-grade-N: grades assignment N (MG_COURSE_ASSIGNMENT, set by meson.build)
// with the student's file compiled in, prints every check and the score, and exits
// 0 with full marks, 1 otherwise (tools/course/README.md).
#include <cstdio>
#include <exception>

#include "tools/course/assignments.h"
#include "tools/course/grader/grader.h"

int main() {
  using namespace mg::course;
  try {
#if MG_COURSE_ASSIGNMENT == 1
    const Report r = grade_softplus_backward(softplus_backward);
#elif MG_COURSE_ASSIGNMENT == 2
    const Report r = grade_maml_inner_loop(maml_inner_loop);
#elif MG_COURSE_ASSIGNMENT == 3
    const Report r = grade_reptile_outer_update(reptile_outer_update);
#else
    const Report r = grade_learned_lr({init_inner_lrs, learned_lr_step});
#endif
    std::fputs(r.str().c_str(), stdout);
    return r.full_marks() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metalearn-grade: %s\n", e.what());
    return 2;
  }
}
