#include "meta/ordered_sum.h"

#include <fmt/format.h>

#include <utility>

#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

namespace mg::meta {

OrderedSum::OrderedSum(std::size_t groups) : waiting_(groups), arrived_(groups, 0) {}

void OrderedSum::add(std::size_t group, std::vector<Tensor> terms) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (group >= arrived_.size() || arrived_[group])
    throw ValueError(fmt::format("OrderedSum: group {} is out of range or added twice ({} groups)", group,
                                 arrived_.size()));
  arrived_[group] = 1;
  waiting_[group] = std::move(terms);
  const NoGradGuard no_grad;
  for (; next_ < arrived_.size() && arrived_[next_]; ++next_) {
    std::vector<Tensor> g = std::move(waiting_[next_]);
    if (next_ == 0) {
      sum_ = std::move(g);
      continue;
    }
    if (g.size() != sum_.size())
      throw ValueError(fmt::format("OrderedSum: group {} has {} terms, group 0 had {}", next_, g.size(), sum_.size()));
    for (std::size_t j = 0; j < sum_.size(); ++j) sum_[j] = sum_[j] + g[j];
  }
}

std::vector<Tensor> OrderedSum::take() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (next_ != arrived_.size())
    throw ValueError(fmt::format("OrderedSum: {} of {} groups are in", next_, arrived_.size()));
  return std::move(sum_);
}

}  // namespace mg::meta
