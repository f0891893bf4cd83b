// Parameter-free layers that change the shape:
//   MaxPool2d(k, s): [N, C, H, W] -> [N, C, (H - k) / s + 1, (W - k) / s + 1], each window's maximum
//   Flatten:         [N, d1, d2, ...] -> [N, d1 · d2 · ...]
#pragma once

#include "nn/module.h"

namespace mg::nn {

class MaxPool2d : public Module {
 public:
  // Stride 0 means stride = kernel (non-overlapping windows, PyTorch's default).
  explicit MaxPool2d(int kernel, int stride = 0) : Module("MaxPool2d"), kernel_(kernel), stride_(stride ? stride : kernel) {}
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  using Module::forward;

 private:
  int kernel_, stride_;
};

class Flatten : public Module {
 public:
  Flatten() : Module("Flatten") {}
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  using Module::forward;
};

}  // namespace mg::nn
