// A job of R ranks simulated in one process, for tests of code that runs over MPI
// ranks (meta/rank_batch.h): a scripted communicator and a driver that runs a call as
// every rank in turn.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "meta/communicator.h"

namespace mg::test {

// Thrown by a Scripted communicator that has only recorded what its rank sent.
struct Recorded {};

// Rank `rank` of a job of `size` simulated in one process: allgather records this
// rank's buffer and answers with the other ranks' buffers taken from `replies` (one
// list per call, in rank order, this rank's entry ignored); with no reply left it
// throws Recorded, so a caller can collect every rank's buffer first.
class Scripted final : public meta::Communicator {
 public:
  Scripted(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<std::vector<std::byte>> allgather(std::span<const std::byte> mine) override {
    sent.emplace_back(mine.begin(), mine.end());
    if (replies.empty()) throw Recorded{};
    std::vector<std::vector<std::byte>> all = std::move(replies.front());
    replies.pop_front();
    all[static_cast<std::size_t>(rank_)] = sent.back();
    return all;
  }
  std::vector<std::byte> broadcast(std::span<const std::byte> buffer, int) override {
    return {buffer.begin(), buffer.end()};
  }
  void barrier() override {}
  [[noreturn]] void abort(int) override { throw Recorded{}; }

  std::vector<std::vector<std::byte>> sent;
  std::deque<std::vector<std::vector<std::byte>>> replies;

 private:
  int rank_, size_;
};

// `call(comm)` as every rank of a job of `ranks`: first each rank runs until its
// allgather (recording its buffer), then each runs again and gets the others'
// buffers. `call` must be deterministic (as a meta-step before its update is).
inline void as_ranks(int ranks, const std::function<void(int rank, Scripted& comm)>& call) {
  std::vector<std::vector<std::byte>> buffers;
  for (int r = 0; r < ranks; ++r) {
    Scripted record(r, ranks);
    CHECK_THROWS_AS(call(r, record), Recorded);
    REQUIRE(record.sent.size() == 1);
    buffers.push_back(record.sent[0]);
  }
  for (int r = 0; r < ranks; ++r) {
    Scripted answer(r, ranks);
    answer.replies.push_back(buffers);
    call(r, answer);
    CHECK(answer.sent.size() == 1);
  }
}

}  // namespace mg::test
