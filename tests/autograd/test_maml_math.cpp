#include <doctest/doctest.h>

TEST_SUITE("maml_math") {}
