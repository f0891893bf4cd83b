// Ink conversion, nearest/area resizing and quarter-turn rotation; see resize.h.
#include "datasets/resize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/errors.h"

namespace mg::data {
namespace {

void check_span(std::string_view what, std::size_t got, int w, int h) {
  if (w <= 0 || h <= 0) {
    throw ValueError("resize: " + std::string(what) + " size must be positive, got " +
                     std::to_string(w) + "x" + std::to_string(h));
  }
  const std::size_t want = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  if (got != want) {
    throw ValueError("resize: " + std::string(what) + " holds " + std::to_string(got) +
                     " values, a " + std::to_string(w) + "x" + std::to_string(h) +
                     " image needs " + std::to_string(want));
  }
}

// Source index sampled by output index i: floor((i + ½)·in/out), computed in
// integers so that it is exact: floor(((2i + 1)·in) / (2·out)).
int nearest_source(int i, int in, int out) {
  return static_cast<int>((2LL * i + 1) * in / (2LL * out));
}

// One axis of the area filter: output pixel i covers source interval
// [i·s, (i+1)·s) with s = in/out; each source pixel j contributes the length of
// its overlap with that interval, divided by s so the weights sum to 1.
Resizer::Axis area_axis(int in, int out) {
  Resizer::Axis axis;
  const double s = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    axis.first.push_back(axis.taps.size());
    const double lo = i * s, hi = (i + 1) * s;
    const int first = static_cast<int>(std::floor(lo));
    const int last = std::min(in - 1, static_cast<int>(std::ceil(hi)) - 1);
    for (int j = first; j <= last; ++j) {
      const double overlap = std::min(hi, j + 1.0) - std::max(lo, static_cast<double>(j));
      if (overlap > 0) axis.taps.push_back({j, static_cast<float>(overlap / s)});
    }
  }
  axis.first.push_back(axis.taps.size());
  return axis;
}

Resizer::Axis nearest_axis(int in, int out) {
  Resizer::Axis axis;
  for (int i = 0; i < out; ++i) {
    axis.first.push_back(axis.taps.size());
    axis.taps.push_back({nearest_source(i, in, out), 1.0f});
  }
  axis.first.push_back(axis.taps.size());
  return axis;
}

}  // namespace

std::string_view resize_filter_name(ResizeFilter filter) {
  return filter == ResizeFilter::kNearest ? "nearest" : "area";
}

void to_ink(const GrayImage& image, std::span<float> out) {
  check_span("ink output", out.size(), image.width, image.height);
  check_span("gray input", image.pixels.size(), image.width, image.height);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = 1.0f - image.pixels[i] * (1.0f / 255.0f);
}

Resizer::Resizer(int in_w, int in_h, int out_w, int out_h, ResizeFilter filter)
    : in_w_(in_w), in_h_(in_h), out_w_(out_w), out_h_(out_h), filter_(filter) {
  check_span("input", static_cast<std::size_t>(std::max(in_w, 1)) * static_cast<std::size_t>(std::max(in_h, 1)),
             in_w, in_h);
  check_span("output", static_cast<std::size_t>(std::max(out_w, 1)) * static_cast<std::size_t>(std::max(out_h, 1)),
             out_w, out_h);
  cols_ = filter == ResizeFilter::kNearest ? nearest_axis(in_w, out_w) : area_axis(in_w, out_w);
  rows_ = filter == ResizeFilter::kNearest ? nearest_axis(in_h, out_h) : area_axis(in_h, out_h);
  mid_.resize(static_cast<std::size_t>(in_w) * static_cast<std::size_t>(out_h));
}

void Resizer::operator()(std::span<const float> in, std::span<float> out) {
  check_span("input", in.size(), in_w_, in_h_);
  check_span("output", out.size(), out_w_, out_h_);
  const std::size_t iw = static_cast<std::size_t>(in_w_), ow = static_cast<std::size_t>(out_w_);
  if (filter_ == ResizeFilter::kNearest) {
    for (std::size_t y = 0; y < static_cast<std::size_t>(out_h_); ++y) {
      const float* src = in.data() + static_cast<std::size_t>(rows_.taps[y].source) * iw;
      for (std::size_t x = 0; x < ow; ++x) out[y * ow + x] = src[cols_.taps[x].source];
    }
    return;
  }
  // Area, separable: rows first (whole source rows, contiguous), then columns.
  for (std::size_t y = 0; y < static_cast<std::size_t>(out_h_); ++y) {
    float* m = mid_.data() + y * iw;
    std::fill(m, m + iw, 0.0f);
    for (std::size_t t = rows_.first[y]; t < rows_.first[y + 1]; ++t) {
      const float w = rows_.taps[t].weight;
      const float* src = in.data() + static_cast<std::size_t>(rows_.taps[t].source) * iw;
      for (std::size_t x = 0; x < iw; ++x) m[x] += w * src[x];
    }
    for (std::size_t x = 0; x < ow; ++x) {
      float acc = 0;
      for (std::size_t t = cols_.first[x]; t < cols_.first[x + 1]; ++t) {
        acc += cols_.taps[t].weight * m[cols_.taps[t].source];
      }
      out[y * ow + x] = acc;
    }
  }
}

void resize(std::span<const float> in, int in_w, int in_h, std::span<float> out, int out_w,
            int out_h, ResizeFilter filter) {
  Resizer(in_w, in_h, out_w, out_h, filter)(in, out);
}

void rotate_quarter_turns(std::span<const float> in, int side, int k, std::span<float> out) {
  check_span("rotation input", in.size(), side, side);
  check_span("rotation output", out.size(), side, side);
  k = ((k % 4) + 4) % 4;
  const std::size_t n = static_cast<std::size_t>(side);
  // Counter-clockwise by 90°: out[y][x] = in[x][n-1-y] (numpy.rot90). The loops
  // walk the source in memory order and scatter into `out`: images in a large
  // data set are usually cold, and sequential reads let the prefetcher fetch them.
  const float* src = in.data();
  float* dst = out.data();
  switch (k) {
    case 0:
      std::copy(in.begin(), in.end(), out.begin());
      break;
    case 1:  // source (r, c) -> (n-1-c, r)
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) dst[(n - 1 - c) * n + r] = src[r * n + c];
      break;
    case 2:  // source (r, c) -> (n-1-r, n-1-c): the reversed sequence
      std::reverse_copy(in.begin(), in.end(), out.begin());
      break;
    default:  // source (r, c) -> (c, n-1-r)
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) dst[c * n + (n - 1 - r)] = src[r * n + c];
      break;
  }
}

}  // namespace mg::data
