#include "autograd/random.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "autograd/errors.h"

namespace mg {

std::uint64_t Generator::below(std::uint64_t n) {
  if (n == 0) throw ValueError("generator: below(0) has no values to draw from");
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do x = engine_();
  while (x >= limit);
  return x % n;
}

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(angle);
  has_spare_ = true;
  return r * std::cos(angle);
}

std::string Generator::state() const {
  std::ostringstream os;
  os.precision(17);
  os << engine_ << ' ' << has_spare_ << ' ' << std::hexfloat << spare_;
  return os.str();
}

void Generator::set_state(const std::string& s) {
  std::istringstream is(s);
  std::mt19937_64 engine;
  bool has_spare = false;
  double spare = 0.0;
  is >> engine >> has_spare;
  std::string spare_text;
  is >> spare_text;
  if (is.fail() || spare_text.empty()) throw ValueError("generator: cannot parse saved state");
  spare = std::strtod(spare_text.c_str(), nullptr);
  engine_ = engine;
  has_spare_ = has_spare;
  spare_ = spare;
}

}  // namespace mg
