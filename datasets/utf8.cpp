// UTF-8 validation; see utf8.h.
#include "datasets/utf8.h"

#include <algorithm>
#include <cstdint>

namespace mg::data {

// Table 3-7 of the Unicode Standard (well-formed UTF-8 byte sequences): the lead
// byte fixes the length and the range of the second byte; later bytes are 80..BF.
std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto b = static_cast<std::uint8_t>(text[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;  // overlong
      if (b == 0xED) hi = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;  // overlong
      if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;  // 80..C1 (continuation or overlong lead) and F5..FF
    }
    if (n - i < static_cast<std::size_t>(len)) return i;
    const auto second = static_cast<std::uint8_t>(text[i + 1]);
    if (second < lo || second > hi) return i;
    for (int k = 2; k < len; ++k) {
      const auto c = static_cast<std::uint8_t>(text[i + static_cast<std::size_t>(k)]);
      if (c < 0x80 || c > 0xBF) return i;
    }
    i += static_cast<std::size_t>(len);
  }
  return std::nullopt;
}

std::size_t line_of_offset(std::string_view text, std::size_t offset) {
  const std::string_view head = text.substr(0, std::min(offset, text.size()));
  return 1 + static_cast<std::size_t>(std::count(head.begin(), head.end(), '\n'));
}

}  // namespace mg::data
