// Unit tests: spam_rules.
#include <doctest/doctest.h>
