// libFuzzer harness: the sizes and counts of task sources (datasets/episodes.h,
// sinusoid.h, task.h): arbitrary N, K, Q, pool sizes, example shapes, batch
// counts and sinusoid ranges must give a task or a typed error, never an
// overflow, a crash or an allocation the memory check did not see coming.
// Tasks are only sampled when they are small (the fuzzer's memory limit is far
// below the machine's, which is what the library checks against).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "autograd/errors.h"
#include "datasets/episodes.h"
#include "datasets/sinusoid.h"

namespace {

constexpr std::uint64_t kSmall = std::uint64_t{16} << 20;

// Reads fixed-size values from the input; zeros once it runs out.
struct Input {
  const std::uint8_t* data;
  std::size_t size;
  template <class T>
  T take() {
    T v{};
    const std::size_t n = std::min(sizeof(T), size);
    std::memcpy(&v, data, n);
    data += n;
    size -= n;
    return v;
  }
};

class FuzzPool : public mg::data::ClassPool {
 public:
  FuzzPool(std::int64_t classes, int examples, mg::Shape shape) : classes_(classes), examples_(examples), shape_(shape) {}
  std::int64_t num_classes() const override { return classes_; }
  int num_examples(std::int64_t cls) const override { return cls == 0 ? examples_ : examples_ / 2 + 1; }
  mg::Shape example_shape() const override { return shape_; }
  void copy_example(std::int64_t cls, int example, float* out) const override {
    if (cls < 0 || cls >= classes_ || example < 0 || example >= num_examples(cls)) std::abort();
    std::fill(out, out + shape_.numel(), static_cast<float>(example));
  }
  std::string class_name(std::int64_t cls) const override { return "class" + std::to_string(cls); }

 private:
  std::int64_t classes_;
  int examples_;
  mg::Shape shape_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const auto which = in.take<std::uint8_t>();
  try {
    if ((which & 1) == 0) {
      // Classes are bounded: the sampler's constructor visits every class.
      const std::int64_t classes = in.take<std::uint16_t>() % 4096;
      const int examples = in.take<std::int32_t>();
      const int ndim = in.take<std::uint8_t>() % 8;
      std::vector<std::int64_t> dims;
      for (int i = 0; i < ndim; ++i) dims.push_back(in.take<std::int64_t>());
      const mg::Shape shape(dims);
      const mg::data::EpisodeConfig config{.n_way = in.take<std::int32_t>(), .k_shot = in.take<std::int32_t>(),
                                           .q_query = in.take<std::int32_t>(), .seed = in.take<std::uint64_t>()};
      const mg::data::EpisodeSampler sampler(std::make_shared<FuzzPool>(classes, examples, shape), config);
      const auto count = in.take<std::uint32_t>();
      const std::uint64_t bytes = sampler.task_bytes();
      if (bytes <= kSmall && classes <= 1024) {
        const mg::data::Task task = sampler.sample(in.take<std::uint64_t>());
        if (task.support_y.numel() != std::int64_t{config.n_way} * config.k_shot) std::abort();
      }
      if (bytes > 0 && bytes * count <= kSmall && classes <= 64 && count <= 64)
        (void)mg::data::sample_tasks(sampler, in.take<std::uint64_t>(), count, 1 + count % 3);
    } else {
      mg::data::SinusoidConfig config;
      config.k_shot = in.take<std::int32_t>();
      config.q_query = in.take<std::int32_t>();
      config.amplitude_min = in.take<double>();
      config.amplitude_max = in.take<double>();
      config.x_min = in.take<double>();
      config.x_max = in.take<double>();
      config.seed = in.take<std::uint64_t>();
      const mg::data::SinusoidTasks tasks(config);
      const auto count = in.take<std::uint32_t>() % 8;
      if (tasks.task_bytes() * 8 <= kSmall) (void)mg::data::sample_tasks(tasks, in.take<std::uint64_t>(), count, 1);
      // Counts the memory check refuses: must be a MemoryError, not an allocation.
      (void)mg::data::sample_tasks(tasks, 0, std::size_t{1} << (40 + count), 1);
      std::abort();  // unreachable: the batch above is refused
    }
  } catch (const mg::Error&) {
  }
  return 0;
}
