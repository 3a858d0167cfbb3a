// The policy's notify action: a short text/plain notice per Decision::notifications entry,
// built from a template (notify/NAME.txt: /etc/pmx first, then the vendor copy in
// /usr/share/pmx; lib/policy/notice.hpp) and handed to pmx-queued's spool
// (lib/queue/submit.hpp) as kind "notification".
//
// Best effort: a notice that cannot be built or spooled is logged and counted
// (notify_failures), and the message itself goes on as decided. Tempfailing a message because
// its notice could not be spooled would bring it back, and its notices, on every retry; the mail
// is never lost either way, only the notice is.
//
// No notice about a notice of ours (Auto-Submitted and Message-ID <pmx-notice.*>), so that a
// rule notifying on every message cannot loop through pmx-queued and the MTA; no notice to the
// sender of auto-submitted mail (RFC 3834).
#pragma once

#include <cstdint>
#include <optional>

#include "contexts.hpp"
#include "judge.hpp"

namespace pmx::milter {

// Called once the MTA's verdict is settled (not for a tempfailed message: it comes again).
void send_notifications(const Runtime& rt, const MessageContext& m, const Judgement& j,
                        std::optional<std::int64_t> quarantine_id);

}  // namespace pmx::milter
