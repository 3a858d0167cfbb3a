// What goes into one policy evaluation and what comes out: the contract between
// the policy engine (lib/policy/engine.hpp), the milter and `pmx policy test`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"

namespace pmx::policy {

struct Envelope {
    std::string sender;                   // MAIL FROM address without <>; "" for the null sender
    std::vector<std::string> recipients;  // RCPT TO addresses without <>, in order
    std::string client_ip;                // "" when unknown (local submission)
    std::string client_hostname;          // verified name from the MTA, "" or "unknown" when none
    std::string helo;
    std::string auth_user;                // SASL login, "" when not authenticated
    std::string queue_id;                 // MTA queue id, for logs
};

// Results of the content scanners, when they ran (later issues fill them).
struct ScanFacts {
    std::optional<double> spam_score;
    std::vector<std::string> spam_rules;
    bool virus = false;
    std::vector<std::string> virus_names;
    bool unscannable = false;
};

enum class Outcome {
    Accept,      // deliver to this recipient
    Quarantine,  // store, do not deliver to this recipient
    Reject,      // 5xx for this recipient
    Tempfail,    // 4xx for this recipient: the sender retries
    Discard,     // accept from the sender, deliver nowhere
};

// Edits apply in order to the message as received: Add appends a header, Remove deletes every
// header of that name, Replace is Remove then Add (so "remove X, add X" drops forged copies).
enum class HeaderEditKind { Add, Replace, Remove };
struct HeaderEdit {
    HeaderEditKind kind;
    std::string name;
    std::string value;  // Add/Replace
    bool operator==(const HeaderEdit&) const = default;
};

struct RecipientDecision {
    std::string recipient;
    Outcome outcome = Outcome::Accept;
    std::string smtp_code = "";          // Reject/Tempfail: "550", "451"
    std::string smtp_xcode = "";         // "5.7.1"
    std::string smtp_text = "";          // reply text, placeholders already expanded
    std::string quarantine_reason = "";  // Quarantine (also set when a copy is quarantined while delivering)
    std::vector<std::string> redirect_to{};  // delivered to these instead of the recipient
    std::string decided_by = "";          // name of the rule that made the final choice, "" = default
    // This recipient's own copy: every header edit and subject tag the rules gave it. When all
    // delivered recipients agree (the usual case) these equal Decision::header_edits/subject_tag;
    // see Decision::copies_differ().
    std::vector<HeaderEdit> header_edits{};
    std::string subject_tag = "";
    // remove_infected: deliver this recipient's copy without its infected parts, a note in each
    // one's place. The delivered body is one for all delivered recipients: when any of them asks
    // for it, every delivered copy loses the infected parts (Decision::remove_infected()).
    bool remove_infected = false;
};

struct TraceLine {
    std::string rule;       // rule name
    std::string recipient;  // "" when the rule ran for the whole message
    bool matched = false;
    std::string why;        // which conditions held or failed, in words
    std::vector<std::string> actions;  // actions taken, as written in the policy
};

struct Notification {
    std::string to;        // address; "" when to_admin
    std::string template_name;
    std::string recipient; // whom it is about
    bool to_admin = false; // notify:admin, the address the milter's configuration names
    std::string rule = ""; // the rule that asked for it
};

// The note that replaces an infected part (remove_infected): the rule's text with the
// message's placeholders already expanded; FileName and VirusName are filled per removed part
// (its file name, the signatures found in it).
struct NoteSegment {
    enum class Kind : std::uint8_t { Text, FileName, VirusName };
    Kind kind = Kind::Text;
    std::string text;
    bool operator==(const NoteSegment&) const = default;
};

struct Decision {
    std::vector<RecipientDecision> recipients;  // same order as Envelope::recipients
    std::vector<HeaderEdit> header_edits;       // for the delivered copy (all delivered recipients)
    std::string subject_tag;                    // prepended to Subject of the delivered copy, "" = none
    std::vector<std::string> add_recipients;    // copy_to: extra recipients of the delivered copy
    std::vector<Notification> notifications;
    std::vector<NoteSegment> removal_note;      // the first remove_infected action's note
    std::vector<TraceLine> trace;
    bool any_quarantine() const;
    // A delivered recipient (Outcome::Accept) asked for remove_infected.
    bool remove_infected() const;
    // True when delivered recipients (Outcome::Accept) got different header edits or subject tags,
    // e.g. one recipient's allow list skipped the spam tag the others got. header_edits and
    // subject_tag above are then the union (first-seen order); a milter that wants each copy exact
    // delivers the recipients whose RecipientDecision differs as a separate copy.
    bool copies_differ() const;
};

std::string_view outcome_name(Outcome o);  // "accept", "quarantine", "reject", "tempfail", "discard"
std::string_view header_edit_name(HeaderEditKind k);  // "add", "replace", "remove"

}  // namespace pmx::policy
