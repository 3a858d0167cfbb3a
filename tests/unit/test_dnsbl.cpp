// Unit tests: dnsbl.
#include <doctest/doctest.h>
