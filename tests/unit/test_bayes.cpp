// Unit tests: bayes.
#include <doctest/doctest.h>
