// svg_plot: document structure, escaping, one element per series/point, tick
// algorithms, clipping, errors, and the atomic file write.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "tools/atomic_file.h"
#include "tools/svg_plot.h"

using namespace mg;
using namespace mg::tools;

namespace {

std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

// Checks tags nest and close properly, attribute values are quoted and text
// holds no raw '<' or unescaped '&'. Returns "" or what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      const auto semi = s.find(';', i);
      const std::string entity = semi == std::string::npos ? "" : s.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" && entity != "&apos;")
        return "bad entity at " + std::to_string(i);
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      ++i;
      continue;
    }
    const bool closing = s[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == ':')) ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    // Attributes: skip quoted values so that '>' inside them does not end the tag.
    while (j < s.size() && s[j] != '>') {
      if (s[j] == '"') {
        const auto end = s.find('"', j + 1);
        if (end == std::string::npos) return "unterminated attribute in <" + name + ">";
        const std::string value = s.substr(j + 1, end - j - 1);
        if (value.find('<') != std::string::npos) return "raw '<' in an attribute of <" + name + ">";
        j = end + 1;
      } else {
        ++j;
      }
    }
    if (j >= s.size()) return "unterminated tag <" + name + ">";
    const bool self_closing = s[j - 1] == '/';
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> does not close <" + (open.empty() ? "" : open.back()) + ">";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = j + 1;
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

// The point lists of all <polyline> elements, as (x, y) pairs.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> lines;
  for (auto at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    const auto start = svg.find("points=\"", at) + 8, end = svg.find('"', start);
    std::istringstream in(svg.substr(start, end - start));
    std::vector<std::pair<double, double>> points;
    double x = 0, y = 0;
    char comma = 0;
    while (in >> x >> comma >> y) points.emplace_back(x, y);
    lines.push_back(points);
  }
  return lines;
}

std::vector<double> range(double from, double to, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(from + (to - from) * i / (n - 1));
  return v;
}

Series line(std::string label, std::vector<double> x, std::vector<double> y) {
  Series s;
  s.label = std::move(label), s.x = std::move(x), s.y = std::move(y);
  return s;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_SUITE("svg") {
  TEST_CASE("nice_ticks: 1-2-5 steps inside the range, exact decimal values") {
    CHECK(nice_ticks(0, 0.93, 5) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8});
    CHECK(nice_ticks(-5, 5, 5) == std::vector<double>{-4, -2, 0, 2, 4});
    CHECK(nice_ticks(0, 100, 4) == std::vector<double>{0, 50, 100});
    CHECK(nice_ticks(3, 17, 10) == std::vector<double>{4, 6, 8, 10, 12, 14, 16});
    CHECK(nice_ticks(0.001, 0.0093, 5) == std::vector<double>{0.002, 0.004, 0.006, 0.008});
    CHECK(nice_ticks(-0.31, -0.05, 5) == std::vector<double>{-0.3, -0.2, -0.1});
    CHECK(nice_ticks(1000, 25000, 5) == std::vector<double>{5000, 10000, 15000, 20000, 25000});
  }

  TEST_CASE("nice_ticks: errors") {
    CHECK_THROWS_WITH_AS(nice_ticks(1, 1, 5),
                         doctest::Contains("nice_ticks: the range must be finite with lo < hi: lo is 1, hi is 1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(nice_ticks(0, kNaN, 5), doctest::Contains("lo < hi"), ValueError);
    CHECK_THROWS_WITH_AS(nice_ticks(0, 1, 0), doctest::Contains("nice_ticks: target_count must be at least 1, got 0"),
                         ValueError);
  }

  TEST_CASE("log_ticks: powers of ten, thinned over many decades, 1-2-5 within one") {
    CHECK(log_ticks(0.003, 250) == std::vector<double>{0.01, 0.1, 1, 10, 100});
    CHECK(log_ticks(1e-9, 1e3) == std::vector<double>{1e-8, 1e-6, 1e-4, 1e-2, 1, 100});
    CHECK(log_ticks(0.15, 0.8) == std::vector<double>{0.2, 0.5});
    CHECK(log_ticks(2, 3) == std::vector<double>{2, 2.5, 3});
    CHECK_THROWS_WITH_AS(log_ticks(0, 1),
                         doctest::Contains("log_ticks: the range must satisfy 0 < lo < hi: lo is 0, hi is 1"),
                         ValueError);
  }

  TEST_CASE("svg_plot: a well-formed standalone document") {
    const std::string svg = svg_plot({line("sin", range(-5, 5, 50), range(-1, 1, 50))}, {"t", "x", "y"});
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"420\"", 0) == 0);
    CHECK(svg.size() > 7);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<g ") + count(svg, "<g>") == count(svg, "</g>"));
    CHECK(count(svg, "<clipPath id=\"mg-clip-0\">") == 1);
    CHECK(count(svg, "clip-path=\"url(#mg-clip-0)\"") == 1);
  }

  TEST_CASE("svg_plot: title, axis labels and legend text, XML-escaped") {
    PlotOptions options;
    options.title = "MAML & friends <K=10>";
    options.x_label = "x \"input\"";
    options.y_label = "loss < 1";
    const std::string svg =
        svg_plot({line("pre & post <update>", {0, 1}, {0, 1}), line("it's", {0, 1}, {1, 0})}, options);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, ">MAML &amp; friends &lt;K=10&gt;</text>") == 1);
    CHECK(count(svg, ">x &quot;input&quot;</text>") == 1);
    CHECK(count(svg, ">loss &lt; 1</text>") == 1);
    CHECK(count(svg, ">pre &amp; post &lt;update&gt;</text>") == 1);
    CHECK(count(svg, ">it&apos;s</text>") == 1);
    CHECK(count(svg, "<g class=\"legend\"") == 1);
  }

  TEST_CASE("svg_plot: one <polyline> per line series, one <circle> per marker point") {
    Series shots = line("K = 5 shots", {-4, -2, 0, 1, 3}, {0.5, -1, 2, 0, 1});
    shots.markers = true;
    Series truth = line("ground truth", range(-5, 5, 100), range(-2, 2, 100));
    truth.dashed = true;
    const std::string svg =
        svg_plot({truth, shots, line("1 step", {-5, 5}, {0, 1}), line("10 steps", {-5, 0, 5}, {1, 0, 1})}, {});
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<polyline") == 3);
    CHECK(count(svg, "<circle") == 5);
    CHECK(count(svg, "<polyline stroke=\"#1f77b4\" stroke-dasharray") == 1);  // the dashed ground truth
    CHECK(polylines(svg)[0].size() == 100);
  }

  TEST_CASE("svg_plot: a long curve is drawn from at most four points per pixel column, extremes kept") {
    // 200,000 iterations of a noisy curve with one spike (Note [Envelope per pixel column]).
    const int n = 200000;
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; ++i) {
      x[i] = i;
      y[i] = std::sin(i / 1000.0) + 0.1 * std::sin(i * 12.9898);
    }
    y[123457] = 10.0;
    double lowest = y[0];
    for (double v : y) lowest = std::min(lowest, v);
    const PlotOptions opt{.title = "loss", .width = 640, .height = 420};
    const std::string svg = svg_plot({line("loss", x, y)}, opt);
    CHECK(xml_problem(svg) == "");
    CHECK(svg.size() < 150000);  // about 7 MB with one point per iteration
    const auto lines = polylines(svg);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() <= 4 * 640);
    CHECK(lines[0].size() > 640);  // every column still has its points
    // The same axes from two points at the data's corners: the envelope reaches the
    // spike and the lowest value exactly, and spans the whole x range.
    const auto corners = polylines(svg_plot({line("loss", {0.0, n - 1.0}, {lowest, 10.0})}, opt))[0];
    auto extent = [](const std::vector<std::pair<double, double>>& pts) {
      double x0 = pts[0].first, x1 = x0, top = pts[0].second, bottom = top;
      for (const auto& [px, py] : pts) x0 = std::min(x0, px), x1 = std::max(x1, px), top = std::min(top, py), bottom = std::max(bottom, py);
      return std::vector<double>{x0, x1, top, bottom};
    };
    CHECK(extent(lines[0]) == extent(corners));
    // x stays in drawing order: the envelope never goes back.
    for (std::size_t i = 1; i < lines[0].size(); ++i) CHECK(lines[0][i].first >= lines[0][i - 1].first);
  }

  TEST_CASE("svg_plot: a title too long for the panel is shrunk, then cut with an ellipsis") {
    PlotOptions options;
    options.width = 160;
    options.title = "Sinusoid regression, K = 10, MAML after 10 inner steps & more";
    const std::string svg = svg_plot({}, options);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "more</text>") == 0);
    CHECK(count(svg, "\u2026</text>") == 1);
    CHECK(count(svg, "font-weight=\"bold\">Sinusoid regression") == 1);
    CHECK(count(svg, "font-size=\"8\" font-weight=\"bold\"") == 1);
  }

  TEST_CASE("svg_plot: palette colors go to series without one, in order") {
    Series red = line("red", {0, 1}, {0, 1});
    red.color = "crimson";
    const std::string svg = svg_plot({line("a", {0, 1}, {0, 1}), red, line("b", {0, 1}, {1, 0})}, {});
    const auto first = svg.find("<polyline stroke=\"#1f77b4\""), second = svg.find("<polyline stroke=\"crimson\""),
               third = svg.find("<polyline stroke=\"#ff7f0e\"");
    REQUIRE(first != std::string::npos);
    REQUIRE(second != std::string::npos);
    REQUIRE(third != std::string::npos);
    CHECK(first < second);
    CHECK(second < third);
  }

  TEST_CASE("svg_plot: a NaN breaks a polyline in two; isolated points draw no line") {
    const std::string svg = svg_plot({line("loss", range(0, 9, 10), {1, 2, 3, 4, kNaN, 6, 7, 8, 9, 10})}, {});
    const auto lines = polylines(svg);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].size() == 4);
    CHECK(lines[1].size() == 5);
    CHECK(lines[0].back().first < lines[1].front().first);

    const double inf = std::numeric_limits<double>::infinity();
    CHECK(polylines(svg_plot({line("", {0, 1, 2, 3, 4}, {1, kNaN, 2, inf, 3})}, {})).empty());
  }

  TEST_CASE("svg_plot: tick labels of a known range") {
    // x is tight to the data: 0..0.93 gives ticks 0, 0.2, ..., 0.8.
    PlotOptions options;
    options.y_min = 0, options.y_max = 1;
    const std::string svg = svg_plot({line("", {0, 0.93}, {0.1, 0.9})}, options);
    for (const char* label : {">0.0</text>", ">0.2</text>", ">0.4</text>", ">0.6</text>", ">0.8</text>", ">1.0</text>"})
      CHECK_MESSAGE(count(svg, label) >= 1, std::string(label));
    CHECK(count(svg, ">0.93</text>") == 0);
    CHECK(count(svg, "0.6000") == 0);
  }

  TEST_CASE("svg_plot: tiny steps and huge values get scientific labels, one precision per axis") {
    PlotOptions options;
    options.y_min = 0, options.y_max = 3e-4;
    const std::string svg = svg_plot({line("", {0, 3e6}, {0, 3e-4})}, options);
    CHECK(count(svg, ">0</text>") == 2);  // on both axes
    for (const char* label : {">5.0e-5</text>", ">1.0e-4</text>", ">3.0e-4</text>", ">1.0e6</text>", ">2.5e6</text>"})
      CHECK_MESSAGE(count(svg, label) == 1, std::string(label));
    CHECK(count(svg, "e+") == 0);
    CHECK(count(svg, "e-05") == 0);
  }

  TEST_CASE("svg_plot: a log y axis has ticks at powers of ten and skips non-positive values") {
    PlotOptions options;
    options.log_y = true;
    const std::string svg = svg_plot({line("loss", {0, 1, 2, 3, 4, 5}, {5, 0.5, 0.05, 0.004, 0, -1})}, options);
    CHECK(xml_problem(svg) == "");
    for (const char* label : {">0.01</text>", ">0.1</text>", ">1</text>"})
      CHECK_MESSAGE(count(svg, label) == 1, std::string(label));
    // Unlabelled minor ticks at 2..9 × 10^k: y spans 10^-2.55 .. 10^0.85 after padding,
    // so 3..9e-3, 2..9e-2, 2..9e-1 and 2..7: 7 + 8 + 8 + 6 = 29 marks.
    auto group = [&](const std::string& cls) {
      const auto at = svg.find("<g class=\"" + cls + "\"");
      return svg.substr(at, svg.find("</g>", at) - at);
    };
    CHECK(count(group("ticks"), "<line") - count(group("tick-labels"), "<text") == 29);
    const auto lines = polylines(svg);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() == 4);
    // Equal ratios are equal distances: 5 -> 0.5 -> 0.05 fall by the same number of pixels.
    CHECK(lines[0][1].second - lines[0][0].second ==
          doctest::Approx(lines[0][2].second - lines[0][1].second).epsilon(0.01));
  }

  TEST_CASE("svg_plot: no series, or no finite points, is an empty plot with axes 0..1") {
    for (const auto& series : {std::vector<Series>{}, std::vector<Series>{line("nan", {kNaN, 1}, {0, kNaN})}}) {
      const std::string svg = svg_plot(series, {"empty", "", ""});
      CHECK(xml_problem(svg) == "");
      CHECK(count(svg, "<polyline") == 0);
      CHECK(count(svg, ">0.0</text>") == 2);  // on both axes
      CHECK(count(svg, ">1.0</text>") == 2);
    }
    PlotOptions log;
    log.log_y = true;
    const std::string svg = svg_plot({line("", {1}, {-1})}, log);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, ">10</text>") == 1);
  }

  TEST_CASE("svg_plot: a fixed y range clips lines to the plot area") {
    PlotOptions options;
    options.y_min = -1, options.y_max = 1;
    const std::string svg = svg_plot({line("spike", {0, 1, 2, 3}, {0, 1e12, 0, -1e200})}, options);
    const auto lines = polylines(svg);
    REQUIRE(!lines.empty());
    for (const auto& points : lines)
      for (const auto& [x, y] : points) {
        CHECK(x >= 0);
        CHECK(x <= 640);
        CHECK(y >= 0);
        CHECK(y <= 420);
      }
    CHECK(svg.find("e+") == std::string::npos);  // no runaway coordinates
  }

  TEST_CASE("svg_plot: the legend goes to the emptiest corner") {
    // A rising diagonal fills the top-right and bottom-left corners; the legend takes the top-left.
    const std::string svg = svg_plot({line("diagonal", range(0, 1, 50), range(0, 1, 50))}, {});
    const auto legend = svg.find("<g class=\"legend\"");
    REQUIRE(legend != std::string::npos);
    const auto x_at = svg.find("<rect x=\"", legend) + 9;
    const auto y_at = svg.find(" y=\"", legend) + 4;
    CHECK(std::stod(svg.substr(x_at)) < 320);
    CHECK(std::stod(svg.substr(y_at)) < 210);

    // No labels, no legend.
    CHECK(count(svg_plot({line("", {0, 1}, {0, 1})}, {}), "class=\"legend\"") == 0);
  }

  TEST_CASE("svg_panels: panels side by side with their own clip paths") {
    PlotOptions left{"MAML", "x", "y"}, right{"pretrained", "x", "y"};
    right.width = 500, right.height = 460;
    const std::string svg = svg_panels({{{line("a", {0, 1}, {0, 1})}, left}, {{line("b", {0, 1}, {1, 0})}, right}});
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1140\" height=\"460\"", 0) == 0);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<clipPath id=\"mg-clip-0\">") == 1);
    CHECK(count(svg, "<clipPath id=\"mg-clip-1\">") == 1);
    CHECK(count(svg, "<g transform=\"translate(640,0)\">") == 1);
    CHECK(count(svg, ">MAML</text>") == 1);
    CHECK(count(svg, ">pretrained</text>") == 1);
    CHECK(count(svg, "<polyline") == 2);
  }

  TEST_CASE("svg_plot and svg_panels: errors") {
    CHECK_THROWS_WITH_AS(svg_plot({line("loss", range(0, 9, 10), range(0, 8, 9))}, {}),
                         doctest::Contains("svg_plot: series 'loss' has 10 x values and 9 y values"), ValueError);
    CHECK_THROWS_WITH_AS(svg_plot({line("a", {0}, {0}), line("", {0, 1}, {0})}, {}),
                         doctest::Contains("svg_plot: series #1 has 2 x values and 1 y values"), ValueError);
    PlotOptions small;
    small.width = 50;
    CHECK_THROWS_WITH_AS(svg_plot({}, small), doctest::Contains("svg_plot: width must be at least 100 pixels, got 50"),
                         ValueError);
    small.width = 640, small.height = 99;
    CHECK_THROWS_WITH_AS(svg_plot({}, small), doctest::Contains("svg_plot: height must be at least 100 pixels, got 99"),
                         ValueError);
    PlotOptions inverted;
    inverted.y_min = 2, inverted.y_max = 1;
    CHECK_THROWS_WITH_AS(svg_plot({}, inverted),
                         doctest::Contains("svg_plot: y_min must be below y_max: y_min is 2, y_max is 1"), ValueError);
    PlotOptions log;
    log.log_y = true, log.y_min = 0;
    CHECK_THROWS_WITH_AS(svg_plot({}, log),
                         doctest::Contains("svg_plot: y_min must be positive on a log y axis, got 0"), ValueError);
    PlotOptions nan_max;
    nan_max.y_max = kNaN;
    CHECK_THROWS_WITH_AS(svg_plot({}, nan_max), doctest::Contains("svg_plot: y_max must be finite, got nan"),
                         ValueError);
    CHECK_THROWS_WITH_AS(svg_panels({}), doctest::Contains("svg_panels: no panels to draw"), ValueError);
    CHECK_THROWS_WITH_AS(svg_panels({{{line("b", {0, 1}, {1})}, PlotOptions{}}}),
                         doctest::Contains("svg_panels: series 'b' has 2 x values and 1 y values"), ValueError);
  }

  TEST_CASE("svg_plot: only one of y_min, y_max fixes that end") {
    PlotOptions options;
    options.y_min = 0;
    const std::string svg = svg_plot({line("", {0, 1, 2}, {3, 2, 1})}, options);
    CHECK(count(svg, ">0.0</text>") == 2);  // x and y start at 0
    CHECK(count(svg, ">3.0</text>") == 1);  // y keeps its padded top, 3.1
    options.y_min = 10;                     // above all the data: the range keeps its span above y_min
    CHECK(xml_problem(svg_plot({line("", {0, 1, 2}, {3, 2, 1})}, options)) == "");
  }

  TEST_CASE("write_text_file: writes atomically and names the path on failure") {
    const auto dir = std::filesystem::temp_directory_path() / ("mg_svg_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "plot.svg").string();
    auto read = [](const std::string& p) {
      std::ifstream in(p, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    write_text_file(path, "first version\n");
    CHECK(read(path) == "first version\n");
    const std::string svg = svg_plot({line("a & b", {0, 1}, {0, 1})}, {});
    write_text_file(path, svg);  // replaces the old file
    CHECK(read(path) == svg);
    CHECK(!std::filesystem::exists(path + ".tmp"));

    const std::string bad = (dir / "no-such-folder" / "plot.svg").string();
    CHECK_THROWS_WITH_AS(write_text_file(bad, "x"), doctest::Contains(("write_text_file: cannot write " + bad).c_str()),
                         DataError);
    CHECK(!std::filesystem::exists(bad));
    std::filesystem::remove_all(dir);
  }
}
