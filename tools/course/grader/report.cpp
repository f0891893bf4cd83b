#include "tools/course/grader/report.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::course {

int Report::score() const {
  int s = 0;
  for (const Check& c : checks) s += c.passed ? c.points : 0;
  return s;
}

int Report::total() const {
  int t = 0;
  for (const Check& c : checks) t += c.points;
  return t;
}

const Check& Report::check(const std::string& name) const {
  for (const Check& c : checks)
    if (c.name == name) return c;
  throw ValueError(fmt::format("report: {} has no check named '{}'", assignment, name));
}

std::string Report::str() const {
  std::string out = fmt::format("{}\n", assignment);
  for (const Check& c : checks)
    out += fmt::format("  [{}] {}/{} {}: {}\n", c.passed ? "pass" : "FAIL", c.passed ? c.points : 0, c.points, c.name,
                       c.feedback);
  out += fmt::format("score: {}/{}\n", score(), total());
  return out;
}

}  // namespace mg::course
