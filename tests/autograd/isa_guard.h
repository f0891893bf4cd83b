// Runs a scope on one CPU kernel path (autograd/kernels/cpu.h) and puts the previous
// path back, for tests that compare the paths.
#pragma once

#include "autograd/kernels/cpu.h"

namespace mg::test {

class IsaGuard {
 public:
  explicit IsaGuard(kernels::Isa isa) : saved_(kernels::active_isa()) { kernels::set_active_isa(isa); }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;
  ~IsaGuard() { kernels::set_active_isa(saved_); }

 private:
  kernels::Isa saved_;
};

}  // namespace mg::test
