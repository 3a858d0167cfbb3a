// Unit tests: av.
#include <doctest/doctest.h>
