// Task generators and batches; see task.h.
#include "datasets/task.h"

#include <string>

#include "autograd/memory.h"
#include "datasets/parallel.h"

namespace mg::data {
namespace {

// SplitMix64's output function: a bijective 64-bit mixer.
std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Task Task::to(DType dtype) const {
  require_floating("Task::to", dtype);
  auto convert = [dtype](const Tensor& t) { return t.defined() && is_floating(t.dtype()) ? t.to(dtype) : t; };
  return {convert(support_x), convert(support_y), convert(query_x), convert(query_y)};
}

Generator task_generator(std::uint64_t seed, std::uint64_t task_index) {
  return Generator(splitmix64(splitmix64(seed) ^ task_index));
}

std::vector<Task> sample_tasks(const TaskSource& source, std::uint64_t first_task,
                               std::size_t count, int threads) {
  check_memory("tasks", "a batch of " + std::to_string(count) + " tasks",
               saturating_mul(count, saturating_add(sizeof(Task), source.task_bytes())));
  std::vector<Task> tasks(count);
  parallel_for(count, threads, [&](std::size_t i, int) { tasks[i] = source.sample(first_task + i); });
  return tasks;
}

}  // namespace mg::data
