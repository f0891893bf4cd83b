// Command-line conventions shared by metalearn and bench/bench_meta (CLI11):
// --help prints and exits with 0; any bad argument prints exactly one line,
// "<program>: <what is wrong>", on stderr and exits with status 2. Numeric
// flags added with add_number are parsed strictly (tools/numbers.h).
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "tools/numbers.h"

namespace mg::tools {

// Prints "<program>: <message>" on stderr as one line; returns 2, the status of bad input.
inline int usage_error(std::string_view program, std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  fmt::print(stderr, "{}: {}\n", program, message);
  return 2;
}

// A numeric flag: the whole value must be a T inside `bounds`, else the parse
// fails with "<flag> must be <range>, got '<value>'[ (<note>)]". `target` is a T
// (its value is the default shown by --help) or a std::optional<T> (empty when
// the flag is not given: the default is decided later).
template <class T, class Target>
CLI::Option* add_number(CLI::App& app, const std::string& flag, Target& target, const Bounds<T>& bounds,
                        const std::string& help, std::string note = "") {
  static_assert(std::is_same_v<Target, T> || std::is_same_v<Target, std::optional<T>>);
  CLI::Option* option = app.add_option_function<std::string>(
      flag,
      [&target, flag, bounds, note](const std::string& text) {
        try {
          target = parse_number<T>(flag, text, bounds, note);
        } catch (const ValueError& e) {
          throw CLI::ValidationError(e.what());
        }
      },
      help);
  option->type_name(std::is_floating_point_v<T> ? "FLOAT" : "INT");
  if constexpr (std::is_same_v<Target, T>) option->default_str(fmt::format("{}", target));
  return option;
}

// Parses argv into `app`. Returns the status to exit with when the program should
// stop here (0 after --help, 2 after an error), nothing when it should go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, std::string_view program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(program, e.what());
  }
  return std::nullopt;
}

}  // namespace mg::tools
