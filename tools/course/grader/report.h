// What a course grader returns: named checks, each worth some points, each with
// feedback (what was seen and, on failure, a hint), and the score out of a total.
#pragma once

#include <string>
#include <vector>

namespace mg::course {

struct Check {
  std::string name;      // what is checked, e.g. "gradgradcheck"
  int points = 0;        // awarded when passed
  bool passed = false;
  std::string feedback;  // what the grader saw; on failure, a hint
};

struct Report {
  std::string assignment;
  std::vector<Check> checks;

  int score() const;
  int total() const;
  bool full_marks() const { return score() == total(); }
  // The check called `name`; ValueError when there is none.
  const Check& check(const std::string& name) const;
  // One line per check ("[pass] 3/3 gradcheck: ..."), then "score: 7/10".
  std::string str() const;
};

}  // namespace mg::course
