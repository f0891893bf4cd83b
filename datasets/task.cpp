// Task generators and batches; see task.h.
#include "datasets/task.h"

#include <string>

#include "autograd/memory.h"
#include "autograd/parallel.h"
#include "autograd/random.h"

namespace mg::data {

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
