// Generator: an explicit, seeded source of random numbers. Every random
// tensor, sampler and initialiser takes one, so a run is reproducible from its
// seed on any machine: the engine is std::mt19937_64 (whose output the C++
// standard fixes) and the uniform and normal transforms are our own (the
// standard library's distributions differ between implementations).
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace mg {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}

  std::uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), without modulo bias.
  std::uint64_t below(std::uint64_t n);
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();

  // The full state as text, and back (for checkpoints that resume exactly).
  std::string state() const;
  void set_state(const std::string& s);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective mixer of 64-bit
// words, so that neighbouring seeds or indices seed unrelated streams. The one place
// seeds are mixed: data::task_generator (task i of a source) and Reptile's minibatch
// order (meta/reptile.cpp) both go through it.
// (Also the mixing step of datasets/hash.h's stable_hash.) constexpr: defined here.
constexpr std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace mg
