// One policy evaluation for one message: parse, scan facts, evaluate the policy.
#pragma once

#include <string_view>

#include "policy/decision.hpp"
#include "runtime.hpp"

namespace pmx::milter {

policy::Decision judge(const Runtime& runtime, const policy::Envelope& envelope, std::string_view raw_message);

}  // namespace pmx::milter
