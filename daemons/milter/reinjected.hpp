// Mail that pmx-queued re-injects (released from quarantine, digests, notifications) carries a
// signed stamp (lib/queue/reinjection_stamp.hpp). A valid one lets the message through without
// filtering, so released mail is not quarantined again; the header is removed whatever it says.
#pragma once

#include <libmilter/mfapi.h>

#include <optional>

#include "contexts.hpp"

namespace pmx::milter {

// SMFIS_ACCEPT (logged and recorded) when the message carries a valid stamp for its envelope;
// nullopt when it has none or an invalid one (logged): then it is filtered like any other.
std::optional<sfsistat> accept_if_reinjected(SMFICTX* ctx, MessageContext& m);

}  // namespace pmx::milter
