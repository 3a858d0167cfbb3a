// Unit tests: jobs.
#include <doctest/doctest.h>
