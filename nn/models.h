// The networks of the MAML paper (Finn, Abbeel & Levine 2017, §5) as builders.
//
//  * sinusoid_mlp: 1 -> 40 -> 40 -> 1 with ReLU (§5.1, regression).
//  * omniglot_conv4: 4 × [conv 3×3 (64 filters, padding 1), batch-norm, ReLU, max-pool 2×2],
//    flatten, linear to N ways; 28×28×1 input: 28 -> 14 -> 7 -> 3 -> 1, so 64 features
//    (§5.2, after Vinyals et al. 2016). The strided variant replaces each max-pool with a
//    stride-2 convolution: 28 -> 14 -> 7 -> 4 -> 2, so 256 features.
//  * miniimagenet_conv4: the same blocks with 32 filters on 84×84×3:
//    84 -> 42 -> 21 -> 10 -> 5, so 800 features.
// Batch norm runs in MAML's batch-statistics mode unless ConvNetOptions says otherwise.
// A pooled block is the modules Conv2d, BatchNorm2d (max_pool = 2), ReLU: the same function
// with less kept for the backward (Note [pooling by the normaliser's input], nn/batchnorm.cpp),
// so parameter b of block i is named "{3i}.…" (conv) and "{3i+1}.…" (batch norm).
// Every builder takes the dtype of the parameters, float32 by default (Note [Models of
// either dtype] in nn/module.h): sinusoid_mlp(gen, DType::F64) for gradient checks.
#pragma once

#include <cstdint>

#include "autograd/random.h"
#include "nn/batchnorm.h"
#include "nn/sequential.h"

namespace mg::nn {

struct ConvNetOptions {
  std::int64_t in_channels = 1;
  std::int64_t image_size = 28;  // square images
  std::int64_t channels = 64;    // filters of every convolution
  std::int64_t n_way = 5;        // outputs of the final linear layer
  int blocks = 4;
  bool strided = false;          // stride-2 convolutions instead of max-pooling
  BatchNormOptions batch_norm = {};
  DType dtype = DType::F32;      // of every parameter and buffer
};

// Side of the last feature map of conv_net(options).
std::int64_t conv_net_feature_size(const ConvNetOptions& options);
Sequential conv_net(const ConvNetOptions& options, Generator& gen);

Sequential sinusoid_mlp(Generator& gen, DType dtype = DType::F32);
Sequential omniglot_conv4(std::int64_t n_way, Generator& gen, bool strided = false, DType dtype = DType::F32);
Sequential miniimagenet_conv4(std::int64_t n_way, Generator& gen, DType dtype = DType::F32);

}  // namespace mg::nn
