// Meta-batches over ranks (meta/rank_batch.h) without MPI: the communicator of one
// process, the wire format, and a job of R ranks simulated in one process by a
// scripted communicator, compared bit for bit with one process. The MPI transport
// itself is tested by tests/meta/mpi_ranks.sh (mpirun, -Dmpi builds only).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "meta/evaluate.h"
#include "meta/group_wire.h"
#include "meta/local_communicator.h"
#include "meta/maml.h"
#include "meta/rank_batch.h"
#include "meta/reptile.h"
#include "tests/meta/meta_fixtures.h"
#include "tests/meta/rank_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace rank_tests {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

using test::as_ranks;
using test::Recorded;
using test::Scripted;

using Factory = std::function<std::unique_ptr<MetaLearner>(nn::Module& model, int threads)>;

// θ after `steps` meta-steps on one process (1 thread) and on each rank of R (T threads).
void check_ranks_match_one_process(const Factory& make, int ranks, int threads, int steps) {
  const std::vector<data::Task> tasks = test::sine_tasks(5);
  nn::Sequential one = test::tiny_mlp(7);
  const std::unique_ptr<MetaLearner> single = make(one, 1);
  std::vector<nn::Sequential> models;
  std::vector<std::unique_ptr<MetaLearner>> learners;
  for (int r = 0; r < ranks; ++r) models.push_back(test::tiny_mlp(7));
  for (int r = 0; r < ranks; ++r) learners.push_back(make(models[static_cast<std::size_t>(r)], threads));
  for (int it = 0; it < steps; ++it) {
    const StepStats s1 = single->step(tasks, it);
    std::vector<StepStats> stats(static_cast<std::size_t>(ranks));
    as_ranks(ranks, [&](int r, Scripted& comm) {
      // A non-owning handle: the communicator lives on this frame.
      learners[static_cast<std::size_t>(r)]->set_communicator(std::shared_ptr<Communicator>(&comm, [](auto*) {}));
      stats[static_cast<std::size_t>(r)] = learners[static_cast<std::size_t>(r)]->step(tasks, it);
      learners[static_cast<std::size_t>(r)]->set_communicator(nullptr);
    });
    for (const StepStats& s : stats) {
      CHECK(s.loss == s1.loss);
      CHECK(s.metric == s1.metric);
    }
  }
  for (const nn::Sequential& m : models) CHECK(test::bit_identical(m.parameters(), one.parameters()));
}

TEST_SUITE("ranks") {
  TEST_CASE("LocalCommunicator: rank 0 of 1; its collectives give back the caller's own bytes") {
    LocalCommunicator comm;
    CHECK(comm.rank() == 0);
    CHECK(comm.size() == 1);
    const std::vector<std::byte> b = bytes_of("theta");
    CHECK(comm.allgather(b) == std::vector<std::vector<std::byte>>{b});
    CHECK(comm.allgather({}) == std::vector<std::vector<std::byte>>{{}});
    CHECK(comm.broadcast(b, 0) == b);
    comm.barrier();
    CHECK(comm.bytes_sent() == 0);
    CHECK(comm.bytes_received() == 0);
    CHECK_THROWS_WITH_AS(comm.broadcast(b, 1), "broadcast: root 1 is not a rank of a one-process job", ValueError);
  }

  TEST_CASE("LocalCommunicator::abort ends the process with the status") {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) LocalCommunicator().abort(7);  // the child only
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
  }

  TEST_CASE("group results survive the wire bit for bit: every dtype, an undefined term, metric rows") {
    WireGroups w;
    w.first = 3;
    GroupResult g;
    g.terms = {from_vector(std::vector<float>{1.5f, -0.0f, 3e-38f}, Shape({3})),
               from_vector(std::vector<double>{0.1, 0.2, 0.3, 0.4}, Shape({2, 2})), Tensor{},
               from_vector(std::vector<std::int64_t>{-7}, Shape({})),
               from_vector(std::vector<double>{}, Shape({0, 4}))};
    g.loss = 0.1 + 0.2;
    g.metrics = {{1.0, 2.0}, {}};
    w.groups = {g, GroupResult{}};
    const WireGroups back = decode_groups(encode_groups(w));
    CHECK(back.first == 3);
    CHECK(!back.failed);
    REQUIRE(back.groups.size() == 2);
    const GroupResult& b = back.groups[0];
    CHECK(b.loss == g.loss);
    CHECK(b.metrics == g.metrics);
    REQUIRE(b.terms.size() == 5);
    CHECK(!b.terms[2].defined());
    for (std::size_t j : {0, 1, 3, 4}) {
      CAPTURE(j);
      CHECK(b.terms[j].dtype() == g.terms[j].dtype());
      CHECK(b.terms[j].shape() == g.terms[j].shape());
      CHECK(std::memcmp(b.terms[j].raw_data(), g.terms[j].raw_data(), g.terms[j].nbytes()) == 0);
    }
    CHECK(back.groups[1].terms.empty());
    CHECK(back.groups[1].metrics.empty());
  }

  TEST_CASE("a failed group travels as its error's type and message") {
    const WireGroups back = decode_groups(encode_groups(WireGroups{2, {}, true, 5, "omniglot: x.png: CRC error"}));
    CHECK(back.failed);
    CHECK(back.first == 2);
    CHECK(back.error_kind == 5);
    CHECK(back.error == "omniglot: x.png: CRC error");
    CHECK(back.groups.empty());
  }

  TEST_CASE("error kinds: every metagrad error type comes back as itself") {
    const auto round_trip = [](const std::exception& e) {
      try {
        throw_error_kind(error_kind_of(e), e.what());
      } catch (const std::exception& back) {
        CHECK(std::string(back.what()) == e.what());
        CHECK(error_kind_of(back) == error_kind_of(e));
      }
    };
    round_trip(ShapeError("s"));
    round_trip(DTypeError("d"));
    round_trip(GradError("g"));
    round_trip(TapeError("t"));
    round_trip(DataError("f"));
    round_trip(ValueError("v"));
    round_trip(MemoryError("m"));
    round_trip(NonFiniteError("n"));
    round_trip(AnomalyError("a"));
    round_trip(DivergenceError("x", 3));
    round_trip(CommError("c"));
    CHECK(error_kind_of(std::runtime_error("r")) == 0);
    CHECK_THROWS_WITH_AS(throw_error_kind(0, "plain"), "plain", Error);
    CHECK_THROWS_WITH_AS(throw_error_kind(5, "bad file"), "bad file", DataError);
  }

  TEST_CASE("decode_groups refuses bytes it did not write") {
    const std::vector<std::byte> good = encode_groups(WireGroups{0, {GroupResult{{scalar(1.0, DType::F64)}, 1.0, {}}}});
    CHECK_THROWS_WITH_AS(decode_groups(bytes_of("XXXX0123456789")),
                         "group results: the buffer does not start with MGW1 (not written by encode_groups)",
                         DataError);
    CHECK_THROWS_WITH_AS(decode_groups(bytes_of("MG")),
                         "group results: the buffer ends at byte 2 inside the header (4 more bytes expected)",
                         DataError);
    std::vector<std::byte> cut(good.begin(), good.end() - 3);
    CHECK_THROWS_WITH_AS(decode_groups(cut),
                         doctest::Contains("inside a term's elements (8 more bytes expected)"), DataError);
    std::vector<std::byte> longer = good;
    longer.push_back(std::byte{0});
    CHECK_THROWS_WITH_AS(decode_groups(longer),
                         fmt::format("group results: 1 bytes left over after byte {}", good.size()).c_str(),
                         DataError);
    std::vector<std::byte> bad_dtype = good;
    // header 4 + 8 + 1, count 4, loss 8, rows 4, terms 4, flag 1: then the dtype
    bad_dtype[4 + 8 + 1 + 4 + 8 + 4 + 4 + 1] = std::byte{9};
    CHECK_THROWS_WITH_AS(decode_groups(bad_dtype), "group results: byte 34: 9 is not a dtype", DataError);
  }

  TEST_CASE("rank_groups: contiguous slices G·r/R … G·(r+1)/R that tile the groups") {
    CHECK(rank_groups(4, 0, 2) == std::pair<std::size_t, std::size_t>{0, 2});
    CHECK(rank_groups(4, 1, 2) == std::pair<std::size_t, std::size_t>{2, 4});
    CHECK(rank_groups(5, 1, 3) == std::pair<std::size_t, std::size_t>{1, 3});
    CHECK(rank_groups(2, 2, 4) == std::pair<std::size_t, std::size_t>{1, 1});  // a rank with no group
    CHECK(rank_groups(2, 3, 4) == std::pair<std::size_t, std::size_t>{1, 2});
    CHECK_THROWS_WITH_AS(rank_groups(4, 2, 2), "rank groups: rank 2 of 2 does not exist", ValueError);
    CHECK_THROWS_WITH_AS(rank_groups(4, 0, 0), "rank groups: rank 0 of 0 does not exist", ValueError);
  }

  TEST_CASE("run_batch over ranks: the same sums, losses and metrics as one process, for R = 2, 3 and T = 1, 2") {
    const std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, 2}, {2, 3}, {3, 4}, {4, 7}};
    // Terms whose sum depends on the order of the additions.
    const auto step = [&](std::size_t g) {
      const double v = g == 1 ? 1e16 : g == 2 ? -1e16 : 0.1 * static_cast<double>(g + 1);
      std::vector<double> m;
      for (std::size_t t = ranges[g].first; t < ranges[g].second; ++t) m.push_back(static_cast<double>(t) / 3);
      return GroupResult{{from_vector(std::vector<double>{v, 1.0 / static_cast<double>(g + 3)}, Shape({2}))},
                         static_cast<double>(g) / 7, {m}};
    };
    const BatchResult one = run_batch(7, ranges, 1, 1, step);
    for (int ranks : {2, 3}) {
      for (int threads : {1, 2}) {
        CAPTURE(ranks);
        CAPTURE(threads);
        as_ranks(ranks, [&](int, Scripted& comm) {
          const BatchResult b = run_batch(7, ranges, threads, 1, step, &comm);
          CHECK(b.tasks == 7);
          CHECK(b.losses == one.losses);
          CHECK(b.metrics == one.metrics);
          CHECK(test::bit_identical(b.sum, one.sum));
        });
      }
    }
  }

  TEST_CASE("run_batch over ranks: every rank throws the lowest failed group's error, of its type") {
    const std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, 1}, {1, 2}, {2, 3}, {3, 4}};
    const auto step = [](std::size_t g) -> GroupResult {
      if (g == 1) throw DataError("group 1: a corrupt PNG");
      if (g == 3) throw ValueError("group 3");
      return {{}, 0.0, {{0.0}}};
    };
    std::vector<std::vector<std::byte>> buffers;
    for (int r = 0; r < 2; ++r) {
      Scripted record(r, 2);
      CHECK_THROWS_AS(run_batch(4, ranges, 2, 1, step, &record), Recorded);
      buffers.push_back(record.sent[0]);
    }
    for (int r = 0; r < 2; ++r) {
      Scripted answer(r, 2);
      answer.replies.push_back(buffers);
      CHECK_THROWS_WITH_AS(run_batch(4, ranges, 1, 1, step, &answer), "group 1: a corrupt PNG", DataError);
    }
  }

  TEST_CASE("more ranks than the batch has tasks is an error on every rank") {
    const std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, 1}, {1, 2}};
    Scripted comm(0, 3);
    CHECK_THROWS_WITH_AS(run_batch(2, ranges, 1, 1, [](std::size_t) { return GroupResult{{}, 0.0, {{0.0}}}; }, &comm),
                         "meta-batch: 3 ranks for a batch of 2 tasks; every rank needs a task, so run at most 2 ranks",
                         ValueError);
    CHECK(comm.sent.empty());
  }

  TEST_CASE("a rank sending groups out of place is an internal error, not a silent mix-up") {
    const std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, 1}, {1, 2}};
    const auto step = [](std::size_t) { return GroupResult{{}, 0.0, {{0.0}}}; };
    Scripted comm(0, 2);
    comm.replies.push_back({{}, encode_groups(WireGroups{0, {GroupResult{{}, 0.0, {{0.0}}}}})});
    CHECK_THROWS_WITH_AS(run_batch(2, ranges, 1, 1, step, &comm),
                         "meta-batch: internal error: a rank sent groups from 0, expected 1", CommError);
    Scripted short_job(0, 2);
    short_job.replies.push_back({{}, encode_groups(WireGroups{1, {}})});
    CHECK_THROWS_WITH_AS(run_batch(2, ranges, 1, 1, step, &short_job),
                         "meta-batch: internal error: the ranks sent 1 groups of 2", CommError);
  }

  TEST_CASE("MAML, FOMAML, Reptile over 2 and 3 ranks give θ bit-identical to one process") {
    for (const int stacks : {0, 2}) {
      for (const bool first_order : {false, true}) {
        CAPTURE(stacks);
        CAPTURE(first_order);
        check_ranks_match_one_process(
            [&](nn::Module& m, int threads) {
              MamlOptions o;
              o.inner_lr = 0.1;
              o.inner_steps = 2;
              o.first_order = first_order;
              o.meta_batch = 5;
              o.threads = threads;
              o.task_stacks = stacks;
              return std::make_unique<Maml>(m, regression(), o);
            },
            2, 2, 3);
      }
    }
    check_ranks_match_one_process(
        [](nn::Module& m, int threads) {
          ReptileOptions o;
          o.inner_lr = 0.02;
          o.inner_steps = 3;
          o.meta_batch = 5;
          o.threads = threads;
          o.inner_optimizer = InnerOptimizer::Adam;
          o.inner_batch = 2;
          return std::make_unique<Reptile>(m, regression(), o);
        },
        3, 1, 3);
  }

  TEST_CASE("evaluation split over ranks scores exactly as one process") {
    // 13 tasks in stacks of 4: 4 groups over 3 ranks (1, 1 and 2).
    const EvalOptions o{.num_tasks = 13, .inner_steps = 2, .tasks_per_stack = 4};
    nn::Sequential model = test::tiny_mlp(2);
    const data::SinusoidTasks sines(data::SinusoidConfig{.k_shot = 10, .q_query = 10, .seed = 11});
    const test::F64Tasks tasks(sines);  // holds a reference to `sines`
    const EvalResult one = evaluate(model, model.parameters(), regression(), {0.01, {}}, tasks, o);
    as_ranks(3, [&](int, Scripted& comm) {
      EvalOptions split = o;
      split.communicator = &comm;
      const EvalResult r = evaluate(model, model.parameters(), regression(), {0.01, {}}, tasks, split);
      REQUIRE(r.metric.size() == one.metric.size());
      for (std::size_t i = 0; i < r.metric.size(); ++i) {
        CHECK(r.metric[i].mean == one.metric[i].mean);
        CHECK(r.metric[i].ci95 == one.metric[i].ci95);
        CHECK(r.metric[i].n == 13);
      }
    });
  }
}

}  // namespace rank_tests
