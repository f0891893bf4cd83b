// The processes of a metalearn run (tools/world.h) and their agreement before the
// first step (tools/rank_agreement.h). mpirun itself: tests/meta/mpi_ranks.sh.
#include <doctest/doctest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "autograd/errors.h"
#include "meta/local_communicator.h"
#include "tests/tools/fixtures.h"
#include "tools/experiment.h"
#include "tools/rank_agreement.h"
#include "tools/shared_checkpoint.h"
#include "tools/train.h"
#include "tools/world.h"

using namespace mg;

namespace world_tests {

// Rank `rank` of a job whose allgather answers with `others` (rank order; the own entry replaced).
class Replaying final : public meta::Communicator {
 public:
  Replaying(int rank, std::vector<std::string> all) : rank_(rank), all_(std::move(all)) {}
  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(all_.size()); }
  std::vector<std::vector<std::byte>> allgather(std::span<const std::byte> mine) override {
    std::vector<std::vector<std::byte>> out;
    for (const std::string& s : all_) {
      const auto* b = reinterpret_cast<const std::byte*>(s.data());
      out.emplace_back(b, b + s.size());
    }
    out[static_cast<std::size_t>(rank_)].assign(mine.begin(), mine.end());
    return out;
  }
  // Rank 0's bytes are `root_bytes` on the other ranks.
  std::vector<std::byte> broadcast(std::span<const std::byte> b, int root) override {
    if (rank_ == root) return {b.begin(), b.end()};
    const auto* r = reinterpret_cast<const std::byte*>(root_bytes.data());
    return {r, r + root_bytes.size()};
  }
  std::string root_bytes;
  void barrier() override {}
  [[noreturn]] void abort(int) override { throw Error("abort"); }

 private:
  int rank_;
  std::vector<std::string> all_;
};

tools::Experiment small_experiment(std::uint64_t seed) {
  tools::TrainConfig c = test::small_run("/tmp/unused-metagrad-world", "maml", 4, 4, 4);
  c.seed = seed;
  tools::prepare(c);
  return tools::build_experiment(c);
}

TEST_SUITE("tools") {
  TEST_CASE("METAGRAD_MPI_TIMEOUT: seconds in (0, 86400], the default when unset") {
    CHECK(tools::mpi_timeout(std::nullopt) == tools::kDefaultMpiTimeout);
    CHECK(tools::mpi_timeout("2.5") == 2.5);
    for (const char* bad : {"0", "-1", "nan", "inf", "1e9", "abc", ""})
      CHECK_THROWS_WITH_AS(tools::mpi_timeout(std::string(bad)),
                           fmt::format("METAGRAD_MPI_TIMEOUT must be a number of seconds in (0, 86400], got '{}'", bad)
                               .c_str(),
                           ValueError);
  }

  TEST_CASE("launcher_world_size reads mpirun's, PMI's and srun --mpi=pmix's variables") {
    std::map<std::string, std::string> vars;
    const auto env = [&](const char* name) -> const char* {
      const auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
    CHECK(tools::launcher_world_size(env) == 1);
    vars["SLURM_NTASKS"] = "8";
    CHECK(tools::launcher_world_size(env) == 1);  // an sbatch script, not a step started by srun
    vars["PMIX_RANK"] = "0";
    CHECK(tools::launcher_world_size(env) == 8);
    vars["PMI_SIZE"] = "3";
    CHECK(tools::launcher_world_size(env) == 3);
    vars["OMPI_COMM_WORLD_SIZE"] = "2";
    CHECK(tools::launcher_world_size(env) == 2);
    vars["OMPI_COMM_WORLD_SIZE"] = "two";
    CHECK_THROWS_WITH_AS(tools::launcher_world_size(env),
                         "OMPI_COMM_WORLD_SIZE must be a count of ranks >= 1, got 'two'", ValueError);
  }

  TEST_CASE("world_communicator outside a launcher is a job of one") {
    const std::shared_ptr<meta::Communicator> w = tools::world_communicator();
    CHECK(w->rank() == 0);
    CHECK(w->size() == 1);
  }

  TEST_CASE("describe_run: the config, the binary, the state; a change of seed changes it") {
    const tools::Experiment a = small_experiment(1), a2 = small_experiment(1), b = small_experiment(2);
    const std::string da = tools::describe_run(a, 0);
    CHECK(da == tools::describe_run(a2, 0));
    CHECK(da.find("config.seed = 1\n") != std::string::npos);
    CHECK(da.find("binary hash = ") != std::string::npos);
    CHECK(da.find("byte order = little\n") != std::string::npos);
    CHECK(da.find("first iteration = 0\n") != std::string::npos);
    CHECK(da != tools::describe_run(b, 0));
    CHECK(da != tools::describe_run(a, 4));
    CHECK(tools::run_hash(da) == tools::run_hash(tools::describe_run(a2, 0)));
    CHECK(tools::run_hash(da) != tools::run_hash(tools::describe_run(b, 0)));
  }

  TEST_CASE("check_ranks_agree: equal runs pass; the lowest differing rank and its first differing line are named") {
    const std::string zero = "config.algo = maml\nconfig.seed = 1\nstate hash = 01\n";
    const std::string other = "config.algo = maml\nconfig.seed = 2\nstate hash = 02\n";
    for (int rank : {0, 1, 2}) {
      Replaying same(rank, {zero, zero, zero});
      tools::check_ranks_agree(same, zero);
    }
    const std::string expected = fmt::format(
        "mpi: rank 1 runs another configuration than rank 0 (hash {:016x} vs {:016x}): config.seed is 2 there, 1 on "
        "rank 0; start every rank with the same metalearn, flags and files",
        tools::run_hash(other), tools::run_hash(zero));
    for (int rank : {0, 1, 2}) {  // every rank reaches the same verdict
      CAPTURE(rank);
      Replaying job(rank, {zero, other, other});
      CHECK_THROWS_WITH_AS(tools::check_ranks_agree(job, rank == 0 ? zero : other), expected.c_str(), ValueError);
    }
    Replaying longer(0, {zero, zero + "extra = 1\n"});
    CHECK_THROWS_WITH_AS(tools::check_ranks_agree(longer, zero), doctest::Contains("): a line more or less; start"),
                         ValueError);
  }

  TEST_CASE("SharedCheckpoint: rank 0 reads the file, the other ranks load a copy of its bytes, removed after") {
    const std::filesystem::path dir = test::scratch("world", "shared");
    const std::string path = (dir / "checkpoint.mgc").string();
    {
      std::ofstream(path, std::ios::binary) << "MGC bytes";
    }
    meta::LocalCommunicator one;
    CHECK(tools::SharedCheckpoint(&one, path).path() == path);
    CHECK(tools::SharedCheckpoint(nullptr, path).path() == path);
    Replaying zero(0, {"", ""});
    CHECK(tools::SharedCheckpoint(&zero, path).path() == path);
    Replaying first(1, {"", ""});
    first.root_bytes = "MGC bytes";
    std::string copy;
    {
      const tools::SharedCheckpoint shared(&first, dir.string() + "/not-on-this-node.mgc");
      copy = shared.path();
      CHECK(copy != path);
      CHECK(test::slurp(copy) == "MGC bytes");
    }
    CHECK(!std::filesystem::exists(copy));
    // A temp folder that takes no files: the copy cannot be written.
    const char* tmpdir = std::getenv("TMPDIR");
    const std::string saved = tmpdir ? tmpdir : "";
    ::setenv("TMPDIR", "/proc/self", 1);
    CHECK_THROWS_WITH_AS(tools::SharedCheckpoint(&first, path),
                         fmt::format("train: --resume: rank 1 cannot write its copy of the checkpoint to "
                                     "/proc/self/metagrad-rank1-{}-checkpoint.mgc",
                                     ::getpid())
                             .c_str(),
                         DataError);
    if (tmpdir)
      ::setenv("TMPDIR", saved.c_str(), 1);
    else
      ::unsetenv("TMPDIR");
    const std::string missing = (dir / "missing.mgc").string();
    CHECK_THROWS_WITH_AS(tools::SharedCheckpoint(&zero, missing),
                         fmt::format("train: --resume: checkpoint {}: does not exist", missing).c_str(), DataError);
    std::filesystem::remove_all(dir);
  }
  TEST_CASE("run_train: nav2d and the text floor refuse to run over ranks (each rank would write the same files)") {
    tools::RunOptions run;
    run.comm = std::make_shared<Replaying>(0, std::vector<std::string>{"", ""});
    tools::TrainConfig nav;
    nav.dataset = "nav2d";
    nav.out = "/tmp/unused-metagrad-world-nav";
    CHECK_THROWS_WITH_AS(tools::run_train(nav, run), "train: --dataset nav2d runs in one process, not over 2 MPI ranks",
                         ValueError);
    tools::TrainConfig text;
    text.dataset = "text-csv";
    text.algo = "nearest-mean";
    text.data = "/tmp/unused-metagrad-world.csv";
    text.out = "/tmp/unused-metagrad-world-text";
    CHECK_THROWS_WITH_AS(tools::run_train(text, run),
                         "train: --algo nearest-mean runs in one process, not over 2 MPI ranks", ValueError);
    CHECK_FALSE(std::filesystem::exists(nav.out));
  }
}

}  // namespace world_tests
