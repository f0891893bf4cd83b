// Helpers of the tools tests: a fresh scratch folder, whole-file reads, a short
// training run and a sink for its output.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/train_config.h"

namespace mg::test {

// An empty folder under the temp directory, named for the test and this process.
inline std::filesystem::path scratch(const std::string& suite, const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / fmt::format("metagrad-{}-{}-{}", suite, name, ::getpid());
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// The whole file as bytes ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A small sinusoid run (well under a second) writing into `out`.
inline tools::TrainConfig small_run(const std::filesystem::path& out, const std::string& algo, std::int64_t iterations,
                                    int meta_batch, int eval_tasks) {
  tools::TrainConfig c;
  c.algo = algo;
  c.iterations = iterations;
  c.meta_batch = meta_batch;
  c.eval_tasks = eval_tasks;
  c.checkpoint_every = 4;
  c.baseline = false;
  c.out = out.string();
  return c;
}

// small_run on the small Omniglot at `data` (tests/datasets/fixtures.h, write_small_omniglot):
// official split, `ways` ways, 2 queries, the strided net, one thread, 3 iterations of
// meta-batch 2, 6 test tasks.
inline tools::TrainConfig small_omniglot_run(const std::filesystem::path& out, const std::string& algo,
                                             const std::filesystem::path& data, int ways) {
  tools::TrainConfig c = small_run(out, algo, 3, 2, 6);
  c.dataset = "omniglot";
  c.data = data.string();
  c.split = "official";
  c.ways = ways;
  c.queries = 2;
  c.strided = true;
  c.threads = 1;
  c.baseline = true;  // small_run turns off the sinusoid's baseline; --no-baseline is for the sinusoid alone
  return c;
}

// /dev/null as a FILE* (progress lines nobody reads), closed at scope end.
struct NullOut {
  std::FILE* f = std::fopen("/dev/null", "w");
  ~NullOut() { std::fclose(f); }
  NullOut() = default;
  NullOut(const NullOut&) = delete;
  NullOut& operator=(const NullOut&) = delete;
};

}  // namespace mg::test
