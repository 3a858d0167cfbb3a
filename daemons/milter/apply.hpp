// End of message: judge, store what must be stored, then tell the MTA, per recipient.
#pragma once

#include <libmilter/mfapi.h>

#include "config/loader.hpp"
#include "contexts.hpp"

namespace pmx::milter {

// Runs the policy and applies its Decision through libmilter. Quarantine copies are
// written and fsync'd before anything is removed from the MTA's hands; any failure
// before that point ends in the configured internal-error verdict (tempfail by default).
sfsistat finish_message(SMFICTX* ctx, MessageContext& message);

// milter.on_internal_error as a libmilter verdict, with a reply text.
sfsistat internal_error_verdict(SMFICTX* ctx, const config::SnapshotPtr& config);

}  // namespace pmx::milter
