// Strict numbers for command-line flags and config files.
//
// A flag's value is taken only when the whole text is one number of the
// flag's type (no "12abc", no "", no leading blanks or '+'), it is finite (no
// "nan", "inf", "1e999") and inside the flag's allowed range; anything else is
// a ValueError that names the flag, the value as typed and the range:
//
//   --ways must be an integer in [2, 10000], got '12abc'
//   --inner-lr must be a finite number in (0, 1000], got 'nan'
//
// Integers are read with std::from_chars in the flag's own type, so a value
// too large for it is out of range, never wrapped or saturated.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <concepts>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "autograd/errors.h"

namespace mg::tools {

// The allowed values of a numeric setting: lo..hi, lo excluded when lo_open
// (learning rates are > 0). The `note` the functions below take is appended to
// the error in parentheses (e.g. the core count, for --threads).
template <class T>
struct Bounds {
  T lo, hi;
  bool lo_open = false;
};

// The whole of `text` as a T, or nothing (malformed, out of T's range, not finite).
template <class T>
std::optional<T> to_number(std::string_view text) {
  T value{};
  const char* first = text.data();
  const char* last = text.data() + text.size();
  std::from_chars_result r{};
  if constexpr (std::floating_point<T>)
    r = std::from_chars(first, last, value, std::chars_format::general);
  else
    r = std::from_chars(first, last, value, 10);
  if (text.empty() || r.ec != std::errc{} || r.ptr != last) return std::nullopt;
  if constexpr (std::floating_point<T>)
    if (!std::isfinite(value)) return std::nullopt;
  return value;
}

// "an integer in [1, 100000]", "a finite number in (0, 1000]".
template <class T>
std::string describe(const Bounds<T>& b) {
  if constexpr (std::floating_point<T>)
    return fmt::format("a finite number in {}{}, {}]", b.lo_open ? '(' : '[', b.lo, b.hi);
  else
    return fmt::format("an integer in [{}, {}]", b.lo, b.hi);
}

template <class T>
bool in_bounds(T value, const Bounds<T>& b) {
  if constexpr (std::floating_point<T>)
    if (!std::isfinite(value)) return false;
  return (b.lo_open ? value > b.lo : value >= b.lo) && value <= b.hi;
}

// "<flag> must be <range>, got '<value>'[ (<note>)]"
template <class T>
std::string range_error(std::string_view flag, std::string_view value, const Bounds<T>& b, std::string_view note = "") {
  return fmt::format("{} must be {}, got '{}'{}", flag, describe(b), value,
                     note.empty() ? std::string() : fmt::format(" ({})", note));
}

// Parses a flag's value strictly; ValueError (range_error) otherwise.
template <class T>
T parse_number(std::string_view flag, std::string_view text, const Bounds<T>& b, std::string_view note = "") {
  const std::optional<T> v = to_number<T>(text);
  if (!v || !in_bounds(*v, b)) throw ValueError(range_error(flag, text, b, note));
  return *v;
}

// The same check on a value that was set in code or read from a checkpoint.
template <class T>
void check_bounds(std::string_view context, std::string_view flag, T value, const Bounds<T>& b,
                  std::string_view note = "") {
  if (!in_bounds(value, b))
    throw ValueError(fmt::format("{}: {}", context, range_error(flag, fmt::format("{}", value), b, note)));
}

}  // namespace mg::tools
