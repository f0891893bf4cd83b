// CRC-32 (IEEE 802.3 / zlib / PNG): reflected polynomial 0xEDB88320, initial
// value and final xor 0xFFFFFFFF, table-driven eight bytes at a time (Note [Eight
// bytes per step] in crc32.cpp).
// crc32("123456789") = 0xCBF43926 (the standard check value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mg::nn {

// CRC of `bytes`; pass a previous result as `crc` to continue over more bytes.
std::uint32_t crc32(std::span<const std::byte> bytes, std::uint32_t crc = 0);

}  // namespace mg::nn
