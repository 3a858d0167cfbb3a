// The policy's remove_infected: cut infected MIME parts out of a message and put a short
// text/plain note in each one's place. The milter scans the parts one by one (scan_units,
// decoded_body) only when the whole message was found infected, then cuts (remove_parts).
//
// A part is cut with its own headers, between the delimiter lines of the multipart that holds
// it; every other byte of the message stays as it was (boundaries included). A part that is not
// directly inside a multipart (the body of a single-part message, or of a forwarded message)
// is cut with its nearest enclosing part that is; when there is none, nothing can be cut and
// remove_parts fails: the caller then applies av.remove_fallback.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"
#include "policy/decision.hpp"
#include "util/result.hpp"

namespace pmx::av {

// The parts worth scanning on their own: leaves whose body is in the raw message. A forwarded
// message (message/rfc822 sent as is) is left out, its own parts are listed; one sent base64 or
// quoted-printable is a unit (its parts exist only in a decoded copy).
std::vector<std::size_t> scan_units(const mail::ParsedMessage& parsed);

// A part's body with its transfer encoding undone (base64, quoted-printable; others as they are).
std::string decoded_body(std::string_view raw, const mail::Part& part);

struct RemovedPart {
    std::size_t part = 0;            // index into ParsedMessage::parts
    std::vector<std::string> names;  // signatures found in it
};

struct Rewritten {
    std::string message;          // headers as before, body without the infected parts
    std::size_t body_offset = 0;  // where the body starts in `message` (and in the original)
    std::vector<std::string> removed;  // "eicar.com (Test.EICAR.HDB-1)" per note, for a header and the log
};

// `parsed` must come from parse_message(raw or a prefix of it, limits). Fails (nothing cut)
// when a part cannot be found in raw or is in no multipart.
Result<Rewritten> remove_parts(std::string_view raw, const mail::ParsedMessage& parsed,
                               const std::vector<RemovedPart>& removed, const std::vector<policy::NoteSegment>& note,
                               const mail::ParseLimits& limits = {});

// The note's text for one cut: {filename} the file names (or "an unnamed TYPE part"), {virus_name}
// the signatures. Control characters become spaces.
std::string note_text(const std::vector<policy::NoteSegment>& note, std::string_view filenames,
                      std::string_view virus_names);

}  // namespace pmx::av
