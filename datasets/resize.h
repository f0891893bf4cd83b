// Image preprocessing for few-shot learning on Omniglot: gray → ink, resize,
// rotation by quarter turns.
//
// What the MAML reference does (Finn et al. 2017, §5.2; github.com/cbfinn/maml,
// data/omniglot_resized/resize_images.py): `Image.open(f).resize((28, 28),
// resample=Image.LANCZOS)` with Pillow, then at load time `1 - pixel/255` so
// that ink is 1. Omniglot PNGs are 1-bit, which Pillow opens in mode "1", and
// Pillow's resize silently replaces the filter by NEAREST for mode "1" (and "P")
// images. So the reference's 28×28 images are *nearest-neighbour* samples, with
// values exactly 0 or 1 — not Lanczos-smoothed gray levels.
//
//   ResizeFilter::kNearest (default) reproduces that: output pixel (x, y) takes
//     the source pixel at floor((x + ½)·W/w), floor((y + ½)·H/h), the pixel-centre
//     convention of current Pillow. For 105 → 28: source columns 1, 5, 9, 13, …, 103.
//   ResizeFilter::kArea averages each output pixel's footprint exactly (a box
//     filter over fractional pixels). It keeps thin strokes that nearest sampling
//     may drop and preserves the mean ink; it is our recommendation for new work,
//     but results are then not pixel-comparable with the MAML reference.
//
// Conventions
//   * Float images are row-major, `width * height` values.
//   * Ink: to_ink() maps gray g ∈ [0, 255] to 1 − g/255, so black strokes are 1
//     and white paper is 0 ("many few-shot pipelines invert the images").
//   * rotate_quarter_turns(k) rotates counter-clockwise by k·90°, like numpy.rot90
//     and tf.image.rot90 (which the MAML reference uses for its rotated classes).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "datasets/png_codec.h"

namespace mg::data {

enum class ResizeFilter { kNearest, kArea };

// "nearest" or "area".
std::string_view resize_filter_name(ResizeFilter filter);

// 1 − g/255 for every pixel of `image`, into `out` (width * height values).
// ValueError if `out` has the wrong size.
void to_ink(const GrayImage& image, std::span<float> out);

// Resizes the `in_w` × `in_h` image `in` to `out_w` × `out_h` into `out`.
// ValueError for non-positive sizes or spans of the wrong length.
void resize(std::span<const float> in, int in_w, int in_h, std::span<float> out, int out_w,
            int out_h, ResizeFilter filter);

// resize() for many images of one size: the filter taps are computed once.
// One Resizer per thread (it keeps a scratch row buffer). ValueError as resize().
class Resizer {
 public:
  Resizer(int in_w, int in_h, int out_w, int out_h, ResizeFilter filter);
  void operator()(std::span<const float> in, std::span<float> out);

  // Output pixel i of one axis reads taps[first[i] .. first[i+1]).
  struct Tap {
    int source = 0;
    float weight = 0;
  };
  struct Axis {
    std::vector<std::size_t> first = {};
    std::vector<Tap> taps = {};
  };

 private:
  int in_w_, in_h_, out_w_, out_h_;
  ResizeFilter filter_;
  Axis cols_, rows_;
  std::vector<float> mid_;  // out_h × in_w, after the row pass of the area filter
};

// Rotates the square `side` × `side` image `in` counter-clockwise by k·90°
// (k taken modulo 4) into `out`, which must not alias `in`.
void rotate_quarter_turns(std::span<const float> in, int side, int k, std::span<float> out);

}  // namespace mg::data
