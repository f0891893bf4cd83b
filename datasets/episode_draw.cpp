// Random draws of N-way K-shot episodes; see episode_draw.h.
#include "datasets/episode_draw.h"

#include <numeric>
#include <unordered_map>
#include <utility>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "datasets/task.h"

namespace mg::data {
namespace {

// The first m entries of a uniformly random permutation of 0..n−1 (partial
// Fisher–Yates: step i swaps item i with a uniform pick from i..n−1).
//
// Note [Sparse Fisher–Yates]: the items are held densely (n entries) only when n is
// small next to m. Otherwise only the swapped positions are kept, in a map from
// position to item (an absent position holds its own index): the same draws, the
// same result, O(m) memory. A pool class with 2^31 examples drew 8 GB for a 1-shot
// task before (found by tests/fuzz/fuzz_episodes).
template <class Int>
std::vector<Int> draw_distinct(Int n, Int m, Generator& gen) {
  const auto count = static_cast<std::size_t>(m);
  if (static_cast<std::uint64_t>(n) <= 4 * static_cast<std::uint64_t>(count) + 64) {
    std::vector<Int> items(static_cast<std::size_t>(n));
    std::iota(items.begin(), items.end(), Int{0});
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t j = i + gen.below(static_cast<std::uint64_t>(n) - i);
      std::swap(items[i], items[j]);
    }
    items.resize(count);
    return items;
  }
  std::unordered_map<std::uint64_t, Int> moved;
  moved.reserve(count);
  auto item = [&](std::uint64_t at) {
    const auto it = moved.find(at);
    return it == moved.end() ? static_cast<Int>(at) : it->second;
  };
  std::vector<Int> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t j = i + gen.below(static_cast<std::uint64_t>(n) - i);
    const Int at_i = item(i), at_j = item(j);
    out[i] = at_j;
    moved[j] = at_i;  // position i is never read again
  }
  return out;
}

}  // namespace

void check_episode_config(const ClassCounts& pool, const EpisodeConfig& config) {
  if (config.n_way < 1 || config.k_shot < 1 || config.q_query < 0) {
    throw ValueError("episodes: need n_way >= 1, k_shot >= 1 and q_query >= 0, got " +
                     std::to_string(config.n_way) + ", " + std::to_string(config.k_shot) + " and " +
                     std::to_string(config.q_query));
  }
  const std::int64_t classes = pool.num_classes();
  if (classes < config.n_way) {
    throw DataError("episodes: " + std::to_string(config.n_way) + "-way tasks need at least " +
                    std::to_string(config.n_way) + " classes, but the pool has " +
                    std::to_string(classes));
  }
  // int64: K + Q can exceed an int.
  const std::int64_t needed = std::int64_t{config.k_shot} + config.q_query;
  for (std::int64_t c = 0; c < classes; ++c) {
    if (pool.num_examples(c) < needed) {
      throw DataError("episodes: " + std::to_string(config.k_shot) + "-shot tasks with " +
                      std::to_string(config.q_query) + " queries need " + std::to_string(needed) +
                      " examples per class, but class " + pool.class_name(c) + " has " +
                      std::to_string(pool.num_examples(c)));
    }
  }
}

std::uint64_t episode_task_bytes(const EpisodeConfig& config, std::uint64_t example_bytes) {
  const auto examples = saturating_mul(static_cast<std::uint64_t>(config.n_way),
                                       static_cast<std::uint64_t>(config.k_shot) + static_cast<std::uint64_t>(config.q_query));
  return saturating_mul(examples, saturating_add(example_bytes, sizeof(std::int64_t)));
}

void check_episode_memory(std::string_view who, const EpisodeConfig& config, std::uint64_t example_bytes,
                          std::string_view examples) {
  check_memory(who,
               "tasks of " + std::to_string(config.n_way) + " ways, " + std::to_string(config.k_shot) + " shots and " +
                   std::to_string(config.q_query) + " queries of " + std::string(examples),
               episode_task_bytes(config, example_bytes));
}

std::vector<std::int64_t> draw_episode_classes(const ClassCounts& pool, const EpisodeConfig& config,
                                               std::uint64_t task_index) {
  Generator gen = task_generator(config.seed, task_index);
  return draw_distinct<std::int64_t>(pool.num_classes(), config.n_way, gen);
}

EpisodeDraw draw_episode(const ClassCounts& pool, const EpisodeConfig& config, std::uint64_t task_index) {
  Generator gen = task_generator(config.seed, task_index);
  EpisodeDraw draw;
  draw.classes = draw_distinct<std::int64_t>(pool.num_classes(), config.n_way, gen);
  // The constructor's checks bound K + Q by an int (num_examples is an int).
  const int per_class = static_cast<int>(std::int64_t{config.k_shot} + config.q_query);
  draw.picks.reserve(draw.classes.size());
  for (const std::int64_t cls : draw.classes) draw.picks.push_back(draw_distinct<int>(pool.num_examples(cls), per_class, gen));
  return draw;
}

}  // namespace mg::data
