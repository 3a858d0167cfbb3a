// The anti-spam step of the milter: the Scanner (lib/spam/scanner.hpp) runs on the parsed
// message before the policy and gives it spam_score and spam_rules; after the policy decided,
// the delivered copy gets X-PMX-Spam-Status and Bayes auto-learns from clear cases.
#pragma once

#include <optional>
#include <string_view>

#include "mail/message.hpp"
#include "policy/decision.hpp"
#include "runtime.hpp"
#include "spam/scanner.hpp"

namespace pmx::milter {

// nullopt when spam scanning is off (spam.enabled = false or no scanner built).
std::optional<spam::Report> scan_for_spam(const Runtime& rt, const policy::Envelope& envelope,
                                          std::string_view raw, const mail::ParsedMessage& message,
                                          policy::ScanFacts& facts);

// Header for the delivered copy (spam.add_headers) and auto-learn (bayes.auto_learn).
void finish_spam(const Runtime& rt, const std::optional<spam::Report>& report,
                 const policy::Envelope& envelope, policy::Decision& decision);

}  // namespace pmx::milter
