// The release state of a quarantined message, per recipient: held until released, then who
// released it, when, and to where. lib/quarantine/release.cpp marks a recipient released
// only after the message is in pmx-queued's spool, in the transaction that records the action.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

// Marks each of recipients (exactly as stored) of message id released, if it is still held.
// Returns those it marked; one released before (by someone else meanwhile) is left unchanged.
// to: where it went instead ("" = to the recipient). time_us 0: now.
Result<std::vector<std::string>> mark_released(Database& db, std::int64_t id, const std::vector<std::string>& recipients,
                                               std::string_view by, std::string_view to, std::int64_t time_us = 0);

}  // namespace pmx::store
