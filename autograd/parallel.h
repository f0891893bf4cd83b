// A deterministic parallel loop over a persistent worker pool, for every floor above
// the kernels: image loading (datasets), task batches (meta), tests of the tape's
// per-thread state (autograd). It lives here, the lowest floor that uses it, because
// it carries autograd's per-thread anomaly mode into its workers.
//
// parallel_for(n, threads, body) calls body(i) for every i in [0, n): worker w
// takes the contiguous block [w·n/T, (w+1)·n/T). Each body writes only its own
// output slot, so results do not depend on the thread count. A worker stops at
// its first exception; after all workers finish, the exception of the lowest
// failing index is rethrown — also independent of the thread count. Anomaly mode
// (autograd/anomaly.h) is on in the workers when it is on in the caller. A call
// made from inside a body (or while another thread's call holds the pool) runs on
// the calling thread: from inside a body, every index in order as worker 0.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>

namespace mg {

// The number of workers for a request: `requested` if positive, otherwise one
// per core (std::thread::hardware_concurrency(), at least 1); never more than n.
int resolve_threads(int requested, std::size_t n);

// `body(i, worker)` gets the index and the worker number in [0, T), so callers
// can keep per-worker scratch buffers.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, int)>& body);

}  // namespace mg
