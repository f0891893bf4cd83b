// Stable hashes: the same value on every machine and compiler (unlike std::hash),
// because they are defined by their constants and byte order only. Changing one
// changes every task (splitmix64), class split (text_splits.h) and n-gram bucket
// (tokenizer.h), so tests pin their values.
#pragma once

#include <cstdint>
#include <string_view>

#include "autograd/random.h"  // splitmix64

namespace mg::data {

// 64-bit FNV-1a (Fowler, Noll & Vo) of the bytes of `s`: offset basis
// 14695981039346656037, prime 1099511628211.
constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The hash of a name or n-gram: splitmix64(fnv1a64(s)).
//
// Note [Why mix FNV-1a]: FNV-1a alone spreads short strings that differ in their
// last bytes poorly over its high bits (its multiply carries a change upwards
// only), so "label0" … "label999" put 900 of 1,000 labels below 0.6 · 2^64.
// Rules that compare hashes to fractions of 2^64 or sort by them need all 64
// bits well mixed; SplitMix64's finaliser gives that.
constexpr std::uint64_t stable_hash(std::string_view s) { return mg::splitmix64(fnv1a64(s)); }

}  // namespace mg::data
