// Command-line conventions shared by metalearn and bench/bench_meta (CLI11):
// --help prints and exits with 0; any bad argument prints exactly one line,
// "<program>: <what is wrong>", on stderr and exits with status 2.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace mg::tools {

// Prints "<program>: <message>" on stderr as one line; returns 2, the status of bad input.
inline int usage_error(std::string_view program, std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  fmt::print(stderr, "{}: {}\n", program, message);
  return 2;
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
