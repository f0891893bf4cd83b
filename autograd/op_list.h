// The table of every op in metagrad. A primitive can only be recorded on the
// tape through its OpId (apply.h), so adding an op means adding a line here, and
// the test suite (tests/test_op_table.cpp) fails for any name here that has no
// gradcheck + gradgradcheck case. Composites are written with primitives and
// need no backward, but they are listed so that they are checked too.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mg {

// X(Name, "name") for every primitive: a struct with a forward and a backward.
#define MG_PRIMITIVE_OPS(X)                                                                               \
  X(Leaf, "leaf") X(Add, "add") X(Sub, "sub") X(Mul, "mul") X(Div, "div") X(Neg, "neg")                  \
  X(AddScalar, "add_scalar") X(MulScalar, "mul_scalar") X(Pow, "pow") X(Exp, "exp") X(Log, "log")       \
  X(Sqrt, "sqrt") X(Abs, "abs") X(Tanh, "tanh") X(Sigmoid, "sigmoid") X(Relu, "relu")                    \
  X(LeakyRelu, "leaky_relu") X(Clamp, "clamp") X(Where, "where") X(Sum, "sum") X(Max, "max")             \
  X(BroadcastTo, "broadcast_to") X(Reshape, "reshape") X(Permute, "permute") X(Matmul, "matmul")         \
  X(Concat, "concat") X(Slice, "slice") X(SliceBackward, "slice_backward")                             \
  X(IndexSelect, "index_select") X(IndexAdd, "index_add") X(Gather, "gather")                           \
  X(ScatterAdd, "scatter_add") X(Im2col, "im2col") X(Col2im, "col2im")      \
  X(ConvMatrix, "conv_matrix") X(ConvMatrixFold, "conv_matrix_fold")      \
  X(MatmulShared, "matmul_shared") X(ChannelMoments, "channel_moments") X(ChannelAffine, "channel_affine")   \
  X(ChannelDot, "channel_dot") X(ChannelSum, "channel_sum") X(ConvColumns, "conv_columns")   \
  X(ReluGrad, "relu_grad") X(ConvInputGrad, "conv_input_grad") X(ConvWeightGrad, "conv_weight_grad") \
  X(MaxPoolSelect, "max_pool_select") X(MaxPoolScatter, "max_pool_scatter")                              \
  X(ChannelAffine2, "channel_affine2") X(ChannelNormalize, "channel_normalize")                          \
  X(EmbeddingBag, "embedding_bag") X(EmbeddingBagScatter, "embedding_bag_scatter")                     \
  X(CustomUnary, "custom_unary")

// X(Name, "name") for every composite: built from primitives, no backward of its own.
#define MG_COMPOSITE_OPS(X)                                                                               \
  X(Mean, "mean") X(SumTo, "sum_to") X(Transpose, "transpose") X(Stack, "stack")                        \
  X(Softmax, "softmax") X(LogSoftmax, "log_softmax") X(Logsumexp, "logsumexp")                          \
  X(MseLoss, "mse_loss") X(CrossEntropy, "cross_entropy") X(Conv2d, "conv2d")                          \
  X(MaxPool2d, "max_pool2d") X(BatchNorm, "batch_norm")                                                \
  X(Vdot, "vdot") X(Dot, "dot") X(Conv1d, "conv1d")

#define MG_OP_ENUM(name, text) name,
enum class OpId : std::uint8_t { MG_PRIMITIVE_OPS(MG_OP_ENUM) };
#undef MG_OP_ENUM

#define MG_OP_NAME(name, text) std::string_view(text),
inline constexpr std::array kPrimitiveOpNames = {MG_PRIMITIVE_OPS(MG_OP_NAME)};
inline constexpr std::array kCompositeOpNames = {MG_COMPOSITE_OPS(MG_OP_NAME)};
#undef MG_OP_NAME

constexpr std::string_view op_name(OpId id) { return kPrimitiveOpNames[static_cast<std::size_t>(id)]; }

}  // namespace mg
