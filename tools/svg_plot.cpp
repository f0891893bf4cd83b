// SVG line plots (see svg_plot.h). A panel is laid out in three steps:
//   1. data ranges: x tight to the data, y padded by 5% (or fixed by the
//      options); a log y axis works in t = log10(y) throughout;
//   2. margins from the text that must fit: the widest y tick label sets the
//      left margin, the title and x label the top and bottom;
//   3. drawing in layers: grid, data (lines clipped to the plot area), frame,
//      ticks and labels, then the legend on top.
// Text width is estimated (no font metrics): kCharWidth em per code point.
#include "tools/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <string_view>

#include "autograd/errors.h"

namespace mg::tools {

namespace {

// matplotlib's "tab10", so figures look familiar next to the paper's.
constexpr std::array<std::string_view, 10> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr double kTickFont = 11, kLabelFont = 12, kTitleFont = 14, kLegendFont = 11;
constexpr double kCharWidth = 0.6;  // average sans-serif advance, in em (a little generous)
constexpr double kTickLength = 5, kMarkerRadius = 4;
// Values beyond this are treated like non-finite ones, so that 5% padding and
// tick arithmetic cannot overflow.
constexpr double kHuge = 1e300;

std::string escape_xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Estimated width in pixels: UTF-8 code points (bytes that are not 10xxxxxx).
double text_width(std::string_view s, double font_size) {
  const auto points =
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  return static_cast<double>(points) * font_size * kCharWidth;
}

// text, or as much of it as fits in max_width followed by an ellipsis.
std::string fit_text(const std::string& text, double font_size, double max_width) {
  if (text_width(text, font_size) <= max_width) return text;
  std::string cut = text;
  while (!cut.empty() && text_width(cut + "\u2026", font_size) > max_width)
    while (!cut.empty()) {  // drop one UTF-8 code point: continuation bytes, then the lead byte
      const auto c = static_cast<unsigned char>(cut.back());
      cut.pop_back();
      if ((c & 0xC0) != 0x80) break;
    }
  return cut + "\u2026";
}

// A pixel coordinate with at most two decimals and no trailing zeros.
std::string num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// Exponents without plus sign and leading zeros: 1e+06 -> 1e6, 5.0e-05 -> 5.0e-5.
std::string compact_exponent(const std::string& s) {
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  std::string exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-0"));
  return s.substr(0, e + 1) + (negative ? "-" : "") + (exponent.empty() ? "0" : exponent);
}

std::string compact_g(double v) { return compact_exponent(fmt::format("{:g}", v)); }

// 10^e, exact for |e| <= 22 and correctly rounded for the negative ones.
double pow10(int e) {
  double p = 1;
  for (int i = 0; i < std::min(std::abs(e), 22); ++i) p *= 10;
  if (std::abs(e) > 22) p = std::pow(10.0, std::abs(e));
  return e < 0 ? 1 / p : p;
}

int decade(double v) { return v == 0 ? 0 : static_cast<int>(std::floor(std::log10(std::abs(v)) + 1e-9)); }

// Labels of linear ticks in one format for the whole axis: fixed with the
// decimals the step needs (0.0, 0.5, 1.0), or scientific with one precision
// for very large values or tiny steps (0, 5.0e-5, 1.0e-4, 1.5e-4).
std::vector<std::string> linear_labels(const std::vector<double>& ticks, double step) {
  double max_abs = 0;
  for (double v : ticks) max_abs = std::max(max_abs, std::abs(v));
  const bool scientific = max_abs >= 1e6 || step < 1e-4;
  const int precision = scientific ? std::clamp(decade(max_abs) - decade(step), 0, 6) : std::max(0, -decade(step));
  std::vector<std::string> labels;
  for (double v : ticks)
    labels.push_back(!scientific ? fmt::format("{:.{}f}", v, precision)
                     : v == 0    ? "0"
                                 : compact_exponent(fmt::format("{:.{}e}", v, precision)));
  return labels;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
  bool empty() const { return lo > hi; }
};

// An axis in its drawing space (t = log10(y) for a log axis): [lo, hi], the
// tick positions in that space and their labels, and unlabelled minor ticks
// (2..9 × 10^k on a log axis whose major ticks are one decade apart).
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks, minor;
  std::vector<std::string> labels;
};

void set_ticks(Axis& axis, bool log, int target_count) {
  axis.ticks.clear(), axis.minor.clear(), axis.labels.clear();
  if (log) {
    // Clamped so that a range near the double limits still has finite ends.
    const std::vector<double> values =
        log_ticks(std::pow(10.0, std::max(axis.lo, -300.0)), std::pow(10.0, std::min(axis.hi, 300.0)));
    for (double v : values) {
      axis.ticks.push_back(std::log10(v));
      axis.labels.push_back(compact_g(v));
    }
    if (values.size() >= 2 && std::abs(values[1] / values[0] - 10) < 1e-6)
      for (double k = std::floor(axis.lo); k < axis.hi; ++k)
        for (int c = 2; c <= 9; ++c)
          if (const double t = k + std::log10(c); t >= axis.lo && t <= axis.hi) axis.minor.push_back(t);
    return;
  }
  // At least two ticks when the range allows: a few targets give one step
  // wider than half the range.
  std::vector<double> ticks = nice_ticks(axis.lo, axis.hi, target_count);
  for (int target = target_count + 1; ticks.size() < 2 && target <= 10; ++target)
    ticks = nice_ticks(axis.lo, axis.hi, target);
  axis.labels = linear_labels(ticks, ticks.size() > 1 ? ticks[1] - ticks[0] : axis.hi - axis.lo);
  axis.ticks = std::move(ticks);
}

double max_label_width(const Axis& axis) {
  double w = 0;
  for (const std::string& s : axis.labels) w = std::max(w, text_width(s, kTickFont));
  return w;
}

struct Pt {
  double x = 0, y = 0;
};
bool operator==(const Pt& a, const Pt& b) { return a.x == b.x && a.y == b.y; }

struct Rect {
  double x0, y0, x1, y1;
  bool contains(const Pt& p, double tolerance = 0) const {
    return p.x >= x0 - tolerance && p.x <= x1 + tolerance && p.y >= y0 - tolerance && p.y <= y1 + tolerance;
  }
};

// Liang-Barsky: shortens a-b to its part inside r; false if none is.
bool clip_segment(Pt& a, Pt& b, const Rect& r) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  double t0 = 0, t1 = 1;
  const std::array<std::pair<double, double>, 4> edges = {
      {{-dx, a.x - r.x0}, {dx, r.x1 - a.x}, {-dy, a.y - r.y0}, {dy, r.y1 - a.y}}};
  for (const auto& [p, q] : edges) {
    if (p == 0) {
      if (q < 0) return false;
    } else if (p < 0) {
      t0 = std::max(t0, q / p);
    } else {
      t1 = std::min(t1, q / p);
    }
  }
  if (t0 > t1) return false;
  const Pt a0 = a;
  if (t0 > 0) a = {a0.x + t0 * dx, a0.y + t0 * dy};
  if (t1 < 1) b = {a0.x + t1 * dx, a0.y + t1 * dy};
  return true;
}

std::string series_name(const Series& s, std::size_t index) {
  return s.label.empty() ? fmt::format("series #{}", index) : fmt::format("series '{}'", s.label);
}

// One panel, drawn with its top-left corner at (ox, 0). clip_id keeps the
// clip path ids of several panels in one document apart.
class PanelRenderer {
 public:
  PanelRenderer(const std::vector<Series>& series, const PlotOptions& options, std::string_view op)
      : series_(series), opt_(options), op_(op) {
    if (opt_.width < 100 || opt_.height < 100)
      throw ValueError(fmt::format("{}: {} must be at least 100 pixels, got {}", op_,
                                   opt_.width < 100 ? "width" : "height", opt_.width < 100 ? opt_.width : opt_.height));
    for (std::size_t i = 0; i < series_.size(); ++i)
      if (series_[i].x.size() != series_[i].y.size())
        throw ValueError(fmt::format("{}: {} has {} x values and {} y values", op_, series_name(series_[i], i),
                                     series_[i].x.size(), series_[i].y.size()));
    fit_ranges();
    layout();
  }

  void render(std::string& out, double ox, int clip_id) const;

 private:
  // A point is drawn when x and the y drawing value t are finite (and y > 0 on a log axis).
  bool usable(const Series& s, std::size_t i, double& t) const {
    const double x = s.x[i], y = s.y[i];
    if (!std::isfinite(x) || !std::isfinite(y) || std::abs(x) > kHuge || std::abs(y) > kHuge) return false;
    if (opt_.log_y && !(y > 0)) return false;
    t = opt_.log_y ? std::log10(y) : y;
    return true;
  }

  void fit_ranges();
  void layout();
  Pt to_px(double x, double t) const {
    return {plot_.x0 + (x - x_.lo) / (x_.hi - x_.lo) * (plot_.x1 - plot_.x0),
            plot_.y1 - (t - y_.lo) / (y_.hi - y_.lo) * (plot_.y1 - plot_.y0)};
  }
  std::vector<std::vector<Pt>> line_runs(const Series& s) const;
  std::vector<Pt> marker_points(const Series& s) const;
  void render_legend(std::string& out, const std::vector<std::string>& colors) const;

  const std::vector<Series>& series_;
  const PlotOptions& opt_;
  std::string_view op_;
  Axis x_, y_;
  Rect plot_{};
};

// Note [Axis ranges]: x is tight to the data (learning curves start at step 0,
// Figure 2 spans exactly [-5, 5]); y gets 5% padding so that no line runs
// along the frame. A single value is widened so the range is never empty;
// no data at all gives 0..1 (on a log axis 1..10).
void PanelRenderer::fit_ranges() {
  Range xr, yr;
  for (const Series& s : series_)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (double t = 0; usable(s, i, t)) xr.add(s.x[i]), yr.add(t);
  auto widen = [](Range r, double single_pad, double fraction) {
    if (r.empty()) return Range{0, 1};
    if (r.lo == r.hi) {
      const double pad = r.lo == 0 ? single_pad : std::max(single_pad * 1e-9, std::abs(r.lo) * 0.1);
      return Range{r.lo - pad, r.hi + pad};
    }
    const double pad = (r.hi - r.lo) * fraction;
    return Range{r.lo - pad, r.hi + pad};
  };
  const Range x = widen(xr, 0.5, 0.0), data_y = widen(yr, 0.5, 0.05);
  x_.lo = x.lo, x_.hi = x.hi;
  if (opt_.log_y && yr.lo == yr.hi)
    y_.lo = yr.lo - 0.5, y_.hi = yr.hi + 0.5;  // half a decade either side
  else
    y_.lo = data_y.lo, y_.hi = data_y.hi;

  auto fixed = [&](const std::optional<double>& v, const char* name) {
    if (!std::isfinite(*v)) throw ValueError(fmt::format("{}: {} must be finite, got {}", op_, name, *v));
    if (opt_.log_y && !(*v > 0))
      throw ValueError(fmt::format("{}: {} must be positive on a log y axis, got {}", op_, name, *v));
    return opt_.log_y ? std::log10(*v) : *v;
  };
  if (opt_.y_min && opt_.y_max && !(*opt_.y_min < *opt_.y_max))
    throw ValueError(
        fmt::format("{}: y_min must be below y_max: y_min is {}, y_max is {}", op_, *opt_.y_min, *opt_.y_max));
  const double span = y_.hi - y_.lo;
  if (opt_.y_min) {
    y_.lo = fixed(opt_.y_min, "y_min");
    if (!opt_.y_max && y_.hi <= y_.lo) y_.hi = y_.lo + span;
  }
  if (opt_.y_max) {
    y_.hi = fixed(opt_.y_max, "y_max");
    if (!opt_.y_min && y_.lo >= y_.hi) y_.lo = y_.hi - span;
  }
}

void PanelRenderer::layout() {
  const double w = opt_.width, h = opt_.height;
  const double top = opt_.title.empty() ? 14 : 34;
  const double bottom = opt_.x_label.empty() ? 28 : 46;
  plot_.y0 = top, plot_.y1 = h - bottom;
  set_ticks(y_, opt_.log_y, std::clamp(static_cast<int>(std::lround((plot_.y1 - plot_.y0) / 45)), 2, 10));
  const double left = 10 + (opt_.y_label.empty() ? 0 : 20) + max_label_width(y_) + kTickLength + 4;
  double right = 16;
  // The x tick count: as many as fit without labels touching; a last label
  // wider than the right margin widens the margin once.
  for (int pass = 0; pass < 2; ++pass) {
    plot_.x0 = left, plot_.x1 = w - right;
    const double plot_w = plot_.x1 - plot_.x0;
    const int first_target = std::clamp(static_cast<int>(std::lround(plot_w / 70)), 2, 10);
    bool fits = false;
    for (int target = first_target; target >= 2 && !fits; --target) {
      set_ticks(x_, false, target);
      const double gap = x_.ticks.size() > 1 ? (x_.ticks[1] - x_.ticks[0]) / (x_.hi - x_.lo) * plot_w : 0;
      fits = x_.ticks.size() > 1 && max_label_width(x_) + 10 <= gap;
    }
    if (!fits) set_ticks(x_, false, first_target);
    if (x_.ticks.empty()) break;
    const double overhang = to_px(x_.ticks.back(), 0).x + text_width(x_.labels.back(), kTickFont) / 2 + 4 - (w - right);
    if (overhang <= 0) break;
    right += overhang;
  }
}

std::vector<std::vector<Pt>> PanelRenderer::line_runs(const Series& s) const {
  // Segments are clipped to a slightly larger box than the plot (the clip
  // path trims the rest), so far-off points cost no bytes and cannot
  // overflow the coordinate format; a clipped or non-finite point ends a run.
  const Rect box{plot_.x0 - 4, plot_.y0 - 4, plot_.x1 + 4, plot_.y1 + 4};
  std::vector<std::vector<Pt>> runs;
  std::vector<Pt> run;
  auto flush = [&] {
    if (run.size() >= 2) runs.push_back(std::move(run));
    run.clear();
  };
  Pt prev;
  bool has_prev = false;  // (not std::optional: GCC 12 warns maybe-uninitialized on it)
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    double t = 0;
    if (!usable(s, i, t)) {
      flush();
      has_prev = false;
      continue;
    }
    const Pt p = to_px(s.x[i], t);
    if (has_prev) {
      Pt a = prev, b = p;
      if (clip_segment(a, b, box)) {
        if (run.empty() || !(run.back() == a)) flush(), run.push_back(a);
        run.push_back(b);
      } else {
        flush();
      }
    }
    prev = p, has_prev = true;
  }
  flush();
  return runs;
}

// Note [Envelope per pixel column]: a learning curve of a long run has one point per
// iteration, hundreds of thousands, but the plot is a few hundred pixels wide. Within
// one pixel column a run keeps only its first, lowest, highest and last points, in the
// order they came: the drawn line still reaches every extreme (a spike shows), enters
// and leaves the column where it did, and no run has more than four points per column.
// Runs already that sparse are returned as they are.
std::vector<Pt> envelope(const std::vector<Pt>& run) {
  if (run.size() <= 4) return run;
  std::vector<Pt> out;
  std::size_t begin = 0;
  while (begin < run.size()) {
    const double column = std::floor(run[begin].x);
    std::size_t end = begin + 1, low = begin, high = begin;
    for (; end < run.size() && std::floor(run[end].x) == column; ++end) {
      if (run[end].y < run[low].y) low = end;
      if (run[end].y > run[high].y) high = end;
    }
    std::size_t keep[4] = {begin, std::min(low, high), std::max(low, high), end - 1};
    for (int k = 0; k < 4; ++k)
      if (k == 0 || keep[k] != keep[k - 1]) out.push_back(run[keep[k]]);
    begin = end;
  }
  return out;
}

std::vector<Pt> PanelRenderer::marker_points(const Series& s) const {
  std::vector<Pt> points;
  for (std::size_t i = 0; i < s.x.size(); ++i)
    if (double t = 0; usable(s, i, t))
      if (const Pt p = to_px(s.x[i], t); plot_.contains(p, 0.5)) points.push_back(p);
  return points;
}

// Note [Legend placement]: like matplotlib's loc="best", the legend goes in
// the corner of the plot area (top-right, top-left, bottom-right,
// bottom-left, in that order of preference) that covers the fewest points,
// counting lines sampled every 3 pixels.
void PanelRenderer::render_legend(std::string& out, const std::vector<std::string>& colors) const {
  constexpr double kPad = 6, kRow = 16, kSwatch = 22, kInset = 8;
  std::vector<std::size_t> entries;
  std::vector<std::string> texts;  // labels cut to leave room for the swatch within the plot
  double text_w = 0;
  for (std::size_t i = 0; i < series_.size(); ++i)
    if (!series_[i].label.empty()) {
      entries.push_back(i);
      texts.push_back(fit_text(series_[i].label, kLegendFont,
                               std::max(40.0, plot_.x1 - plot_.x0 - 2 * kInset - 2 * kPad - kSwatch - 6)));
      text_w = std::max(text_w, text_width(texts.back(), kLegendFont));
    }
  if (entries.empty()) return;
  const double bw = kPad + kSwatch + 6 + text_w + kPad, bh = 2 * kPad + kRow * static_cast<double>(entries.size()) - 2;

  std::vector<Pt> samples;
  for (const Series& s : series_) {
    if (s.markers) {
      for (const Pt& p : marker_points(s)) samples.push_back(p);
      continue;
    }
    for (const auto& run : line_runs(s))
      for (std::size_t k = 1; k < run.size(); ++k) {
        const Pt a = run[k - 1], b = run[k];
        const int n = std::max(1, static_cast<int>(std::hypot(b.x - a.x, b.y - a.y) / 3));
        for (int j = 0; j <= n; ++j) samples.push_back({a.x + (b.x - a.x) * j / n, a.y + (b.y - a.y) * j / n});
      }
  }
  const double xl = plot_.x0 + kInset, xr = plot_.x1 - kInset - bw, yt = plot_.y0 + kInset, yb = plot_.y1 - kInset - bh;
  const std::array<Pt, 4> corners = {{{xr, yt}, {xl, yt}, {xr, yb}, {xl, yb}}};
  Pt best = corners[0];
  std::size_t best_count = std::numeric_limits<std::size_t>::max();
  for (const Pt& c : corners) {
    const Rect box{c.x, c.y, c.x + bw, c.y + bh};
    const auto count = static_cast<std::size_t>(
        std::count_if(samples.begin(), samples.end(), [&](const Pt& p) { return box.contains(p, 2); }));
    if (count < best_count) best = c, best_count = count;
  }

  auto o = std::back_inserter(out);
  fmt::format_to(o, "<g class=\"legend\" font-size=\"{}\">\n", kLegendFont);
  fmt::format_to(o,
                 "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" fill-opacity=\"0.85\" "
                 "stroke=\"#bbb\" rx=\"3\"/>\n",
                 num(best.x), num(best.y), num(bw), num(bh));
  for (std::size_t row = 0; row < entries.size(); ++row) {
    const Series& s = series_[entries[row]];
    const std::string& color = colors[entries[row]];
    const double cy = best.y + kPad + kRow * (static_cast<double>(row) + 0.5) - 1, sx = best.x + kPad;
    if (s.markers) {
      // A circle as a path, so that <circle> elements are exactly the data markers.
      fmt::format_to(o, "<path d=\"M{},{}a{r},{r} 0 1,0 {d},0a{r},{r} 0 1,0 -{d},0\" fill=\"{c}\" stroke=\"white\"/>\n",
                     num(sx + kSwatch / 2 - kMarkerRadius), num(cy), fmt::arg("r", num(kMarkerRadius)),
                     fmt::arg("d", num(2 * kMarkerRadius)), fmt::arg("c", color));
    } else {
      fmt::format_to(o, "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", num(sx),
                     num(cy), num(sx + kSwatch), num(cy), color, s.dashed ? " stroke-dasharray=\"6,3\"" : "");
    }
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\">{}</text>\n", num(sx + kSwatch + 6), num(cy + kLegendFont * 0.35),
                   escape_xml(texts[row]));
  }
  out += "</g>\n";
}

void PanelRenderer::render(std::string& out, double ox, int clip_id) const {
  auto o = std::back_inserter(out);
  const double pw = plot_.x1 - plot_.x0, ph = plot_.y1 - plot_.y0;
  fmt::format_to(o, "<g transform=\"translate({},0)\">\n", num(ox));
  fmt::format_to(
      o, "<defs><clipPath id=\"mg-clip-{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n",
      clip_id, num(plot_.x0), num(plot_.y0), num(pw), num(ph));

  // Grid and tick marks share positions; both skip ticks that land outside the plot.
  std::vector<double> xs, ys;
  for (double t : x_.ticks) xs.push_back(to_px(t, y_.lo).x);
  for (double t : y_.ticks) ys.push_back(to_px(x_.lo, t).y);
  out += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double x : xs)
    fmt::format_to(o, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x), num(plot_.y0), num(plot_.y1));
  for (double y : ys)
    fmt::format_to(o, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(y), num(plot_.x0), num(plot_.x1));
  out += "</g>\n";

  // Data: lines under the clip path, then markers on top (not clipped, so a
  // shot at the very edge of the range shows as a whole circle).
  std::vector<std::string> colors;
  std::size_t next_color = 0;
  for (const Series& s : series_)
    colors.push_back(s.color.empty() ? std::string(kPalette[next_color++ % kPalette.size()]) : escape_xml(s.color));
  fmt::format_to(o, "<g clip-path=\"url(#mg-clip-{})\" fill=\"none\" stroke-width=\"1.8\" stroke-linejoin=\"round\">\n",
                 clip_id);
  for (std::size_t i = 0; i < series_.size(); ++i) {
    if (series_[i].markers) continue;
    for (const auto& all : line_runs(series_[i])) {
      const std::vector<Pt> run = envelope(all);
      fmt::format_to(o, "<polyline stroke=\"{}\"{} points=\"", colors[i],
                     series_[i].dashed ? " stroke-dasharray=\"6,3\"" : "");
      for (std::size_t k = 0; k < run.size(); ++k)
        fmt::format_to(o, "{}{},{}", k ? " " : "", num(run[k].x), num(run[k].y));
      out += "\"/>\n";
    }
  }
  out += "</g>\n";
  for (std::size_t i = 0; i < series_.size(); ++i) {
    if (!series_[i].markers) continue;
    fmt::format_to(o, "<g fill=\"{}\" stroke=\"white\" stroke-width=\"1\">\n", colors[i]);
    for (const Pt& p : marker_points(series_[i]))
      fmt::format_to(o, "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>\n", num(p.x), num(p.y), num(kMarkerRadius));
    out += "</g>\n";
  }

  // Frame, tick marks and labels.
  fmt::format_to(o, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
                 num(plot_.x0), num(plot_.y0), num(pw), num(ph));
  out += "<g class=\"ticks\" stroke=\"#444\">\n";
  for (double x : xs)
    fmt::format_to(o, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x), num(plot_.y1),
                   num(plot_.y1 + kTickLength));
  for (double y : ys)
    fmt::format_to(o, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(y), num(plot_.x0 - kTickLength),
                   num(plot_.x0));
  for (double t : y_.minor)
    fmt::format_to(o, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(to_px(x_.lo, t).y),
                   num(plot_.x0 - 3), num(plot_.x0));
  out += "</g>\n";
  fmt::format_to(o, "<g class=\"tick-labels\" font-size=\"{}\" fill=\"#333\">\n", kTickFont);
  for (std::size_t k = 0; k < xs.size(); ++k)
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(xs[k]),
                   num(plot_.y1 + kTickLength + 3 + kTickFont), escape_xml(x_.labels[k]));
  for (std::size_t k = 0; k < ys.size(); ++k)
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(plot_.x0 - kTickLength - 3),
                   num(ys[k] + kTickFont * 0.35), escape_xml(y_.labels[k]));
  out += "</g>\n";

  // Titles: a title too wide for the panel is set smaller (down to 8 px), then
  // cut with an ellipsis, so that it never runs into a neighbouring panel.
  if (!opt_.title.empty()) {
    const double room = opt_.width - 8;
    const double size = std::clamp(kTitleFont * room / text_width(opt_.title, kTitleFont), 8.0, kTitleFont);
    const std::string title = fit_text(opt_.title, size, room);
    const double half = text_width(title, size) / 2;
    const double cx = std::max(4 + half, std::min(opt_.width - 4 - half, plot_.x0 + pw / 2));
    fmt::format_to(o,
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" font-weight=\"bold\">{}</text>\n",
                   num(cx), num(plot_.y0 - 12), num(size), escape_xml(title));
  }
  if (!opt_.x_label.empty())
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\">{}</text>\n",
                   num(plot_.x0 + pw / 2), num(plot_.y1 + kTickLength + 3 + kTickFont + 8 + kLabelFont), kLabelFont,
                   escape_xml(fit_text(opt_.x_label, kLabelFont, pw)));
  if (!opt_.y_label.empty())
    fmt::format_to(
        o, "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"{}\">{}</text>\n",
        num(10 + kLabelFont), num(plot_.y0 + ph / 2), kLabelFont, escape_xml(fit_text(opt_.y_label, kLabelFont, ph)));

  render_legend(out, colors);
  out += "</g>\n";
}

std::string document(double width, double height, const std::string& body) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<rect width=\"{0}\" height=\"{1}\" "
      "fill=\"white\"/>\n{2}</svg>\n",
      num(width), num(height), body);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi) || !std::isfinite(hi - lo))
    throw ValueError(fmt::format("nice_ticks: the range must be finite with lo < hi: lo is {}, hi is {}", lo, hi));
  if (target_count < 1)
    throw ValueError(fmt::format("nice_ticks: target_count must be at least 1, got {}", target_count));
  // step = m·10^e with m the smallest of 1, 2, 5, 10 that is not below the raw step.
  const double raw = (hi - lo) / target_count;
  int e = static_cast<int>(std::floor(std::log10(raw)));
  int m = 10;
  for (int c : {1, 2, 5})
    if (c * pow10(e) >= raw * (1 - 1e-9)) {
      m = c;
      break;
    }
  if (m == 10) m = 1, ++e;
  const double step = m * pow10(e);
  // tick k is (k·m)·10^e; (k·m) is an exact integer, so one multiplication or
  // division by an exact power of ten rounds it to the nearest double.
  const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last && ticks.size() < 1000; ++k) {
    const double v = e >= 0 ? k * m * pow10(e) : k * m / pow10(-e);
    ticks.push_back(v == 0 ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(hi) || !(lo < hi))
    throw ValueError(fmt::format("log_ticks: the range must satisfy 0 < lo < hi: lo is {}, hi is {}", lo, hi));
  const double llo = std::log10(lo), lhi = std::log10(hi);
  const int first = static_cast<int>(std::ceil(llo - 1e-9)), last = static_cast<int>(std::floor(lhi + 1e-9));
  std::vector<double> ticks;
  if (last - first >= 1) {
    // Many decades: every n-th power, n from the 1-2-5 steps on the exponents.
    if (last - first <= 7)
      for (int k = first; k <= last; ++k) ticks.push_back(pow10(k));
    else
      for (double k : nice_ticks(first, last, 6)) ticks.push_back(pow10(static_cast<int>(k)));
    return ticks;
  }
  for (int k = static_cast<int>(std::floor(llo)); k <= static_cast<int>(std::ceil(lhi)); ++k)
    for (int c : {1, 2, 5}) {
      const double v = k >= 0 ? c * pow10(k) : c / pow10(-k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
    }
  return ticks.size() >= 2 ? ticks : nice_ticks(lo, hi, 4);
}

std::string svg_plot(const std::vector<Series>& series, const PlotOptions& options) {
  const PanelRenderer panel(series, options, "svg_plot");
  std::string body;
  panel.render(body, 0, 0);
  return document(options.width, options.height, body);
}

std::string svg_panels(const std::vector<std::pair<std::vector<Series>, PlotOptions>>& panels) {
  if (panels.empty()) throw ValueError("svg_panels: no panels to draw; pass at least one (series, options) pair");
  std::string body;
  double x = 0, height = 0;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const PanelRenderer panel(panels[i].first, panels[i].second, "svg_panels");
    panel.render(body, x, static_cast<int>(i));
    x += panels[i].second.width;
    height = std::max(height, static_cast<double>(panels[i].second.height));
  }
  return document(x, height, body);
}

}  // namespace mg::tools
