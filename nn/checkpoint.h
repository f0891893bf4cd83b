// Checkpoints: a model's parameters and buffers by name, the optimizer state,
// the step and free-form metadata (configuration, RNG state) in one file.
//
// Format, version 1 (all integers little-endian):
//
//   offset  size  field
//   0       8     magic "MGCKPT\0\0"
//   8       4     u32 format version = 1
//   12      4     u32 CRC-32 of the payload (nn/crc32.h)
//   16      8     u64 payload length in bytes
//   24      ...   payload:
//                   i64 step
//                   u32 n, then n × (str key, str value)            metadata
//                   u32 n, then n × tensor                          model parameters and buffers
//                   str optimizer kind ("" when no optimizer was saved)
//                   u32 n, then n × (str name, f64 value)           optimizer scalars
//                   u32 n, then n × tensor                          optimizer tensors
//   str    = u32 byte length, then the bytes (no terminator)
//   tensor = str name, u8 dtype (0 f32, 1 f64, 2 i64), u8 ndim, ndim × i64 extents,
//            then the elements in row-major order
//
// Writing is atomic: the file is written to "<path>.tmp", fsync'ed, renamed over
// <path>, and the directory is fsync'ed, so a crash leaves the old or the new
// checkpoint, never a torn one. Reading checks, in order: the file opens, the
// header is complete, the magic, the version, the payload length (truncation),
// the checksum (corruption); loading into a model then checks every name,
// shape and dtype before it writes anything. Each failure is a DataError naming
// the file and, where there is one, the parameter.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "nn/optimizer.h"

namespace mg::nn {

inline constexpr std::uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::int64_t step = 0;
  std::vector<std::pair<std::string, std::string>> metadata = {};
  std::vector<NamedTensor> tensors = {};  // parameters, then buffers
  OptimizerState optimizer = {};          // kind "" when absent

  // The value of metadata `key`; DataError naming `key` when absent.
  const std::string& meta(const std::string& key) const;
};

void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
Checkpoint read_checkpoint(const std::string& path);

// Saves model's named parameters and buffers, the optimizer's state (when given), step and metadata.
// `extra` are further named tensors saved beside the model's (a meta-learner's learned inner learning rates).
// Throws NonFiniteError, writing nothing, when one of them holds a NaN or an infinity.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer, std::int64_t step,
                     std::vector<std::pair<std::string, std::string>> metadata = {},
                     const std::vector<NamedTensor>& extra = {});
// The NonFiniteError save_checkpoint(path, model, optimizer, ..., extra) would throw,
// without writing: callers that write other files with a checkpoint check first.
void check_finite_state(const std::string& path, const Module& model, const Optimizer* optimizer,
                        const std::vector<NamedTensor>& extra = {});
// Loads a checkpoint into model (values copied in place) and optimizer (when given);
// returns it for the step and metadata. Nothing is modified unless everything fits.
// `extra` must match what save_checkpoint was given and is loaded like the model's tensors.
Checkpoint load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer,
                           const std::vector<NamedTensor>& extra = {});

}  // namespace mg::nn
