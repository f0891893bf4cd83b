#include <doctest/doctest.h>

TEST_SUITE("higher_order") {}
