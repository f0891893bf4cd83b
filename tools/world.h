// The processes of a metalearn run. Started by an MPI launcher (mpirun, mpiexec, srun)
// and built with the Meson feature -Dmpi, metalearn is one rank of an MPI job
// (meta/mpi_communicator.h); otherwise it is a job of one (meta/local_communicator.h).
// The choice is made in one of two files, world_mpi.cpp or world_local.cpp, so that a
// build without MPI needs no MPI header.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "meta/communicator.h"

namespace mg::tools {

// The default of METAGRAD_MPI_TIMEOUT: how long a collective waits for the other ranks
// (Note [Collectives with a timeout] in meta/mpi_communicator.h). Long enough for rank 0
// to write a checkpoint and for ranks to load Omniglot at different speeds.
inline constexpr double kDefaultMpiTimeout = 120.0;

// The value of METAGRAD_MPI_TIMEOUT (`value`; nullopt when unset): seconds in (0, 86400].
// ValueError naming the variable otherwise.
double mpi_timeout(const std::optional<std::string>& value);

// How many ranks the launcher says this job has: OMPI_COMM_WORLD_SIZE (mpirun), PMI_SIZE
// (MPICH, srun --mpi=pmi2), or SLURM_NTASKS when PMIX_RANK is set (srun --mpi=pmix), as
// `env` (std::getenv) gives them; 1 when none is set. ValueError for a value that is not
// a count.
int launcher_world_size(const std::function<const char*(const char*)>& env);

// This process's communicator: MPI when built with it and the launcher started several
// ranks (one rank runs as a job of one: the same bits, no MPI start-up), else local.
// ValueError when started as one of several ranks by a build without MPI (each would
// train alone and write the same files); CommError when MPI fails to start.
std::shared_ptr<meta::Communicator> world_communicator();

}  // namespace mg::tools
