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
struct Tap {
  int source;
  float weight;
};
std::vector<std::vector<Tap>> area_taps(int in, int out) {
  std::vector<std::vector<Tap>> taps(static_cast<std::size_t>(out));
  const double s = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double lo = i * s, hi = (i + 1) * s;
    const int first = static_cast<int>(std::floor(lo));
    const int last = std::min(in - 1, static_cast<int>(std::ceil(hi)) - 1);
    for (int j = first; j <= last; ++j) {
      const double overlap = std::min(hi, j + 1.0) - std::max(lo, static_cast<double>(j));
      if (overlap > 0) taps[static_cast<std::size_t>(i)].push_back({j, static_cast<float>(overlap / s)});
    }
  }
  return taps;
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

void resize(std::span<const float> in, int in_w, int in_h, std::span<float> out, int out_w,
            int out_h, ResizeFilter filter) {
  check_span("input", in.size(), in_w, in_h);
  check_span("output", out.size(), out_w, out_h);
  const auto at = [](int x, int y, int w) {
    return static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x);
  };
  if (filter == ResizeFilter::kNearest) {
    for (int y = 0; y < out_h; ++y) {
      const int sy = nearest_source(y, in_h, out_h);
      for (int x = 0; x < out_w; ++x) out[at(x, y, out_w)] = in[at(nearest_source(x, in_w, out_w), sy, in_w)];
    }
    return;
  }
  // Area: separable, columns first into an out_w × in_h buffer, then rows.
  const auto cols = area_taps(in_w, out_w), rows = area_taps(in_h, out_h);
  std::vector<float> mid(static_cast<std::size_t>(out_w) * static_cast<std::size_t>(in_h));
  for (int y = 0; y < in_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      float acc = 0;
      for (const Tap& t : cols[static_cast<std::size_t>(x)]) acc += t.weight * in[at(t.source, y, in_w)];
      mid[at(x, y, out_w)] = acc;
    }
  }
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      float acc = 0;
      for (const Tap& t : rows[static_cast<std::size_t>(y)]) acc += t.weight * mid[at(x, t.source, out_w)];
      out[at(x, y, out_w)] = acc;
    }
  }
}

void rotate_quarter_turns(std::span<const float> in, int side, int k, std::span<float> out) {
  check_span("rotation input", in.size(), side, side);
  check_span("rotation output", out.size(), side, side);
  k = ((k % 4) + 4) % 4;
  const std::size_t n = static_cast<std::size_t>(side);
  // Counter-clockwise by 90°: out[y][x] = in[x][n-1-y] (numpy.rot90).
  for (std::size_t y = 0; y < n; ++y) {
    for (std::size_t x = 0; x < n; ++x) {
      std::size_t sy = y, sx = x;
      switch (k) {
        case 0: break;
        case 1: sy = x; sx = n - 1 - y; break;
        case 2: sy = n - 1 - y; sx = n - 1 - x; break;
        default: sy = n - 1 - x; sx = y; break;
      }
      out[y * n + x] = in[sy * n + sx];
    }
  }
}

}  // namespace mg::data
