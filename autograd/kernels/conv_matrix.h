// A convolution as one matrix, for images no larger than the window (the 3×3
// maps of conv4's last layer): raw loops, no tape (autograd/vision.h has the ops).
//
// With the window of kernels/im2col.h, conv2d(x, W) maps the C·H·W pixels of an
// image linearly to its F·OH·OW outputs: y = M x for the matrix
//   M[(f, oh, ow), (c, ih, iw)] = W[f, c, i, j]   where i = ih − oh·sh + ph and
//                                                 j = iw − ow·sw + pw lie in the window,
// and 0 elsewhere. M has F·OH·OW·C·H·W entries against im2col's C·kh·kw·N·OH·OW
// columns: the same multiply-adds as im2col + GEMM when H·W = kh·kw, fewer when the
// image is smaller, and no gather, scatter or permute of the batch at all.
//
// Row (f, q) of M is W[f] (C·kh·kw values) read through a table that depends on q
// alone, so both directions are one table copy per row (kernels/table_copy.h).
#pragma once

#include <cstdint>

#include "autograd/kernels/im2col.h"  // ConvGeometry
#include "autograd/tensor.h"

namespace mg::kernels {

// weight [F, C, kh, kw] -> M [F*OH*OW, C*H*W] (g.n is ignored).
Tensor conv_matrix(const Tensor& weight, const ConvGeometry& g, std::int64_t filters);
// M [F*OH*OW, C*H*W] -> [F, C, kh, kw]: each weight the sum of the entries of M that
// hold it (the adjoint of conv_matrix).
Tensor conv_matrix_fold(const Tensor& m, const ConvGeometry& g, std::int64_t filters);

}  // namespace mg::kernels
