// One policy evaluation for one message: parse (capped), gather scan facts, evaluate.
#pragma once

#include <optional>
#include <string_view>

#include "av_remove.hpp"
#include "mail/message.hpp"
#include "policy/decision.hpp"
#include "runtime.hpp"

namespace pmx::milter {

struct Judgement {
    mail::ParsedMessage message;
    policy::ScanFacts facts;
    policy::Decision decision;
    std::optional<Removal> removal;  // remove_infected cut parts: the body to deliver
};

// Throws only on internal failures (the caller answers with milter.on_internal_error).
Judgement judge(const Runtime& runtime, const policy::Envelope& envelope, std::string_view raw_message);

}  // namespace pmx::milter
