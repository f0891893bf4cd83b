// The bytes of a rank's group results, as the ranks exchange them (Note
// [Meta-batches over ranks], meta/rank_batch.h): the tensors' exact bits, so that
// the sum taken on every rank is the sum one process takes.
//
//   buffer  := "MGW1" u64 first_group u8 failed (error | u32 n group^n)
//   error   := u8 kind string                  the exception of the rank's lowest failed group
//   group   := f64 loss u32 rows (u32 n f64^n)^rows u32 terms term^terms
//   term    := u8 defined [u8 dtype u32 ndim i64^ndim bytes]   (elements in row-major order)
//   string  := u64 length bytes
//
// Numbers are in the machine's byte order: the ranks of a job run one binary on one
// architecture (tools/rank_agreement.h checks it).
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "meta/driver.h"

namespace mg::meta {

struct WireGroups {
  std::size_t first = 0;                  // the batch index of groups[0]
  std::vector<GroupResult> groups = {};   // a contiguous run of the batch's groups
  bool failed = false;                    // a step threw: `error` replaces the groups
  int error_kind = 0;                     // which mg error type (error_kind_of)
  std::string error = {};                 // its what()
};

std::vector<std::byte> encode_groups(const WireGroups& groups);
// DataError naming the problem for bytes that encode_groups did not write (a truncated
// or foreign buffer).
WireGroups decode_groups(std::span<const std::byte> bytes);

// The number that names `e`'s type among metagrad's errors (0: any other exception).
int error_kind_of(const std::exception& e);
// Throws the metagrad error of type `kind` with `message` (CommError's base, mg::Error, for 0).
[[noreturn]] void throw_error_kind(int kind, const std::string& message);

}  // namespace mg::meta
