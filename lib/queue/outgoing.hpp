// The message as pmx-queued sends it: the stored message with a fresh X-PMX-Reinjected stamp on
// top (any older one removed: only the stamp of this delivery counts) and a Message-ID when it
// had none, since the stamp is bound to it.
#pragma once

#include <string>
#include <string_view>

namespace pmx::queue {

// The Message-ID field's value, unfolded and trimmed ("<a@b>"); "" when the header has none.
std::string find_message_id(std::string_view message);

// The Message-ID pmx-queued gives a message without one: stable across attempts.
std::string make_message_id(std::string_view entry_id, std::string_view host);

// stamp: the X-PMX-Reinjected value; added_message_id: "" to add none. The new fields use the
// message's own line end (CRLF or LF).
std::string prepare_outgoing(std::string_view message, std::string_view stamp, std::string_view added_message_id);

}  // namespace pmx::queue
