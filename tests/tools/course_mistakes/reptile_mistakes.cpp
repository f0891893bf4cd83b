#include "autograd/creation.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tests/tools/course_mistakes/mistakes.h"

namespace mg::course::mistakes {
namespace reptile_mistake_detail {

// θ + scale · Σ_i (W_i − θ).
std::vector<Tensor> reptile_move(Theta theta, const Adapted& adapted, double scale) {
  NoGradGuard no_grad;
  std::vector<Tensor> next;
  for (std::size_t j = 0; j < theta.size(); ++j) {
    Tensor d = zeros_like(theta[j]);
    for (const std::vector<Tensor>& w : adapted) d = d + (w[j] - theta[j]);
    next.push_back(theta[j] + d * scale);
  }
  return next;
}

}  // namespace reptile_mistake_detail

using namespace reptile_mistake_detail;

std::vector<Tensor> reptile_wrong_way(Theta theta, const Adapted& adapted, double epsilon) {
  return reptile_move(theta, adapted, -epsilon / static_cast<double>(adapted.size()));
}
std::vector<Tensor> reptile_sum(Theta theta, const Adapted& adapted, double epsilon) {
  return reptile_move(theta, adapted, epsilon);
}
std::vector<Tensor> reptile_no_epsilon(Theta theta, const Adapted& adapted, double) {
  return reptile_move(theta, adapted, 1.0 / static_cast<double>(adapted.size()));
}
// The right numbers, written into θ's storage and returned as θ.
std::vector<Tensor> reptile_in_place(Theta theta, const Adapted& adapted, double epsilon) {
  const std::vector<Tensor> next = reptile_move(theta, adapted, epsilon / static_cast<double>(adapted.size()));
  std::vector<Tensor> out(theta.begin(), theta.end());
  for (std::size_t j = 0; j < out.size(); ++j) {
    const std::vector<double> v = next[j].to_vector<double>();
    double* p = out[j].mutable_data<double>();
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i];
  }
  return out;
}

}  // namespace mg::course::mistakes
