// Unit tests: ipblock.
#include <doctest/doctest.h>
