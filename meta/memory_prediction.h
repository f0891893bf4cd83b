// The peak of tensor memory of one MAML meta-iteration, predicted from the model and
// the settings before anything runs (issue 20, item 2).
//
//   nn::Sequential model = nn::omniglot_conv4(5, gen);
//   meta::MemorySetting s{.example = {1, 28, 28}, .classification = true, .support = 5, .query = 75,
//                         .meta_batch = 32, .inner_steps = 5};
//   meta::MemoryPrediction p = meta::predict_maml_memory(model, s);
//   std::string text = p.table();  // the terms in MB, each named for what it is
//
// What it predicts is the profiler's peak_live_bytes (autograd/profile.h) of a
// meta-iteration after the first (Adam's moments exist): the most bytes of live tensor
// storage at any moment. The prediction is derived from what each op keeps for its
// backward (the Save policy of every op in autograd/op_list.h, and what the backward
// formulas keep when create_graph records them), not fitted to measurements: Note
// [What a meta-iteration keeps] in meta/memory_prediction.cpp walks through it, with
// the three moments at which the peak can fall.
//
// Covered: Sequential models of Linear, Conv2d, BatchNorm2d (batch statistics, with
// or without its fused max-pool), ReLU and Flatten — the sinusoid MLP and the conv4
// nets of nn/models.h — with the MSE (regression) or cross-entropy (classification)
// objective, trained by MAML or first-order MAML with the outer Adam (meta/maml.h,
// without learned inner rates). Any other layer is refused with a ValueError. The
// prediction is for one worker thread over tasks; with more, each worker holds a task
// group's working set of its own at the same time (MemoryPrediction::with_workers: an
// upper bound, since the workers' peaks need not coincide; the tests measure two workers
// 1-5 % below it on conv4).
// Threads over each op's work (--parallel ops, kernels::OpThreads; MemorySetting::op_threads)
// change nothing kept, but conv_columns' input gradient then holds one chunk of columns per
// part (Note [conv over parts], autograd/kernels/conv_gemm.cpp), which the prediction counts.
// The tests measure those peaks with Storage::start_peak_tracking (every thread's
// allocations; the profiler sees only its own thread's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autograd/shape.h"
#include "nn/module.h"

namespace mg::meta {

struct MemorySetting {
  Shape example = Shape({1});   // one input example: [1] (sinusoid), [1, 28, 28] (Omniglot)
  bool classification = false;  // cross-entropy on int64 labels; else MSE on targets of the output's shape
  std::int64_t support = 10;    // examples in a task's support set (N·K for N-way K-shot)
  std::int64_t query = 10;      // examples in a task's query set
  int meta_batch = 25;
  int task_stacks = 2;          // as MamlOptions::task_stacks (used when the model supports stacks)
  int inner_steps = 1;          // k
  bool first_order = false;
  // kernels::OpThreads of the run (--parallel ops): conv_columns' input gradient then holds
  // one chunk of columns per part of its split (Note [conv over parts]).
  int op_threads = 1;
};

// One named part of the memory alive at a moment.
struct MemoryTerm {
  std::string name;
  std::int64_t bytes = 0;
};

// A moment at which the peak can fall, and what is alive then.
struct MemoryMoment {
  std::string name;
  std::vector<MemoryTerm> terms;
  std::int64_t total() const;
};

struct MemoryPrediction {
  std::vector<MemoryMoment> moments;  // the candidate moments; the peak is the largest
  std::int64_t shared_bytes = 0;      // of a moment's terms, what all workers share (θ, Adam, data, the sum)
  std::int64_t groups = 1;            // task groups per meta-batch (stacks, or one per task)

  const MemoryMoment& peak() const;
  std::int64_t total() const { return peak().total(); }
  // With `workers` threads, up to min(workers, groups) groups' working sets at once:
  // shared_bytes + that many times (total() − shared_bytes). ValueError for workers < 1.
  std::int64_t with_workers(int workers) const;
  // The peak's terms in MB (2^20 bytes) with their share, then every moment's total.
  std::string table() const;
};

// ValueError for a model or layer that is not covered (naming it), inner_steps < 1,
// meta_batch < 1, task_stacks < 0, support or query < 1; ShapeError when the example
// does not fit the first layer.
MemoryPrediction predict_maml_memory(nn::Module& model, const MemorySetting& setting);

}  // namespace mg::meta
