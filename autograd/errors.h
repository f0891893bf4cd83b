// Typed exceptions thrown by metagrad. Every message follows the house format
//   <op>: <rule broken>: <operand> is <shape>, <operand> is <shape> [(detail)] [; hint]
// so that a user can find the failing call from the message alone.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace mg {

// Base of every metagrad error, so callers can catch them all at once.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Shapes that do not fit an op (broadcasting, matmul, reshape, axes, indices).
struct ShapeError : Error {
  using Error::Error;
};

// Operands of different element types, or a type an op does not accept.
struct DTypeError : Error {
  using Error::Error;
};

// Misuse of grad()/backward(): non-scalar outputs, unreachable inputs, in-place edits.
struct GradError : Error {
  using Error::Error;
};

// A handle used after the tape scope that recorded it was rewound.
struct TapeError : Error {
  using Error::Error;
};

// Bad input files or folders (datasets, checkpoints).
struct DataError : Error {
  using Error::Error;
};

// Invalid argument values that are not shapes (negative sizes, bad options).
struct ValueError : Error {
  using Error::Error;
};

// A request for more memory than the machine can give: refused up front from an
// estimate (data loaders, samplers, evaluation), or refused by the allocator.
struct MemoryError : Error {
  using Error::Error;
};

// A NaN or an infinity where the computation needed a finite value.
struct NonFiniteError : Error {
  using Error::Error;
};

// Anomaly mode (autograd/anomaly.h) found the first op, in a forward pass or a backward
// sweep, whose result holds a NaN or an infinity while its operands were finite.
struct AnomalyError : NonFiniteError {
  using NonFiniteError::NonFiniteError;
};

// A training run diverged: the loss or the meta-gradient of meta-step `iteration` was
// not finite (meta/meta_learner.h); the update was not applied.
struct DivergenceError : NonFiniteError {
  DivergenceError(const std::string& message, std::int64_t iteration)
      : NonFiniteError(message), iteration(iteration) {}
  std::int64_t iteration;
};

}  // namespace mg
