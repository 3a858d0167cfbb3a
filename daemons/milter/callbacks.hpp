// The libmilter callback table: thin noexcept C shims into the connection and message contexts.
#pragma once

#include <libmilter/mfapi.h>

namespace pmx::milter {

smfiDesc milter_description();

}  // namespace pmx::milter
