// world_communicator() of a build without MPI (tools/world_local.cpp): started by a
// launcher as one of several ranks, it refuses to run (each rank would train alone).
#include <doctest/doctest.h>
#include <stdlib.h>

#include "autograd/errors.h"
#include "tools/world.h"

TEST_SUITE("tools") {
  TEST_CASE("a build without MPI refuses to run as one of several ranks") {
    ::setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    CHECK_THROWS_WITH_AS(mg::tools::world_communicator(),
                         "started as one of 3 MPI ranks, but this metalearn was built without MPI (each rank would "
                         "train alone and write the same files); rebuild with libopenmpi-dev installed (meson setup "
                         "-Dmpi=enabled)",
                         mg::ValueError);
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    CHECK(mg::tools::world_communicator()->size() == 1);
  }
}
