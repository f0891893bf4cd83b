#include "nn/models.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "nn/activations.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/pool.h"  // Flatten

namespace mg::nn {

std::int64_t conv_net_feature_size(const ConvNetOptions& o) {
  std::int64_t side = o.image_size;
  for (int b = 0; b < o.blocks; ++b) {
    side = o.strided ? (side - 1) / 2 + 1 : side / 2;  // conv 3×3 pad 1 stride 2, or pool 2×2
    if (side < 1)
      throw ValueError(fmt::format("conv_net: {}×{} images vanish after {} of {} blocks", o.image_size, o.image_size,
                                   b + 1, o.blocks));
  }
  return side;
}

Sequential conv_net(const ConvNetOptions& o, Generator& gen) {
  const std::int64_t side = conv_net_feature_size(o);
  Sequential net;
  for (int b = 0; b < o.blocks; ++b) {
    const std::int64_t in = b == 0 ? o.in_channels : o.channels;
    net.emplace<Conv2d>(in, o.channels, 3, gen, Conv2dOptions{.stride = o.strided ? 2 : 1, .padding = 1}, o.dtype);
    // Pooled inside batch norm, ReLU after the pool: Note [pooling by the normaliser's input].
    BatchNormOptions bn = o.batch_norm;
    if (!o.strided) bn.max_pool = 2;
    net.emplace<BatchNorm2d>(o.channels, bn, o.dtype);
    net.emplace<ReLU>();
  }
  net.emplace<Flatten>();
  net.emplace<Linear>(o.channels * side * side, o.n_way, gen, true, o.dtype);
  return net;
}

Sequential sinusoid_mlp(Generator& gen, DType dtype) {
  Sequential net;
  net.emplace<Linear>(1, 40, gen, true, dtype).emplace<ReLU>();
  net.emplace<Linear>(40, 40, gen, true, dtype).emplace<ReLU>();
  net.emplace<Linear>(40, 1, gen, true, dtype);
  return net;
}

Sequential omniglot_conv4(std::int64_t n_way, Generator& gen, bool strided, DType dtype) {
  return conv_net(
      {.in_channels = 1, .image_size = 28, .channels = 64, .n_way = n_way, .strided = strided, .dtype = dtype}, gen);
}

Sequential miniimagenet_conv4(std::int64_t n_way, Generator& gen, DType dtype) {
  return conv_net({.in_channels = 3, .image_size = 84, .channels = 32, .n_way = n_way, .dtype = dtype}, gen);
}

}  // namespace mg::nn
