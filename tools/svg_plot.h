// Dependency-free SVG line plots for the `metalearn` command line: learning
// curves, and the MAML paper's Figure 2 (Finn et al. 2017, Section 5.1):
// the sinusoid ground truth (dashed), the K support points (markers) and the
// model's predictions before and after 1 and 10 inner gradient steps, with a
// MAML panel next to a pretrained-baseline panel.
//
// The output is one standalone SVG document (any browser, or rsvg-convert to
// PNG): a frame with "nice" tick values (1-2-5 steps, or powers of ten on a
// log axis), tick labels, axis labels, title and a legend box placed in the
// corner of the plot area that covers the fewest data points. Lines are
// clipped to the plot area; coordinates are written with at most two
// decimals to keep files small.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mg::tools {

struct Series {
  std::string label;         // legend text (escaped for XML); empty: not in the legend
  std::vector<double> x, y;  // same length; non-finite points are skipped (a line breaks there)
  std::string color = "";    // CSS color; empty: the next color of the built-in palette
  bool markers = false;      // draw circles at the points and no line (for the K shots)
  bool dashed = false;       // dashed line (ground truth, baselines)
};

struct PlotOptions {
  std::string title = "", x_label = "", y_label = "";
  int width = 640, height = 420;                                     // pixels; ValueError if < 100
  bool log_y = false;                                                // log10 y axis; non-positive y values are skipped
  std::optional<double> y_min = std::nullopt, y_max = std::nullopt;  // fixed y range (else from data, with 5% padding)
};

// A complete standalone SVG document. No series, or no finite points, gives a
// valid empty plot with axes 0..1. Throws ValueError for x/y of different
// lengths, a size below 100 pixels, or a y range that is empty (y_min >= y_max)
// or not positive on a log axis.
std::string svg_plot(const std::vector<Series>& series, const PlotOptions& options);

// Several plots side by side in one SVG document, each laid out as svg_plot
// would lay it out alone; the document is as tall as the tallest panel.
// Throws ValueError for an empty list of panels.
std::string svg_panels(const std::vector<std::pair<std::vector<Series>, PlotOptions>>& panels);

// Tick values k·step inside [lo, hi] (both ends included), with step the
// smallest of 1, 2, 5 × 10^e that gives at most about target_count intervals,
// e.g. nice_ticks(0, 0.93, 5) = {0, 0.2, 0.4, 0.6, 0.8}. Each tick is the double
// nearest its decimal value (0.6, not 0.6000000000000001). Throws ValueError
// unless lo < hi are finite and target_count >= 1.
std::vector<double> nice_ticks(double lo, double hi, int target_count);

// Ticks of a log10 axis spanning [lo, hi] (values, not exponents; 0 < lo < hi):
// the powers of ten inside, every n-th one if there are many decades. With
// fewer than two inside, 1, 2, 5 × 10^e; if still fewer than two, nice_ticks.
std::vector<double> log_ticks(double lo, double hi);

}  // namespace mg::tools
