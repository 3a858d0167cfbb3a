// What goes into one policy evaluation and what comes out: the contract between
// the policy engine (lib/policy/engine.hpp), the milter and `pmx policy test`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

struct RecipientDecision {
    std::string recipient;
    Outcome outcome = Outcome::Accept;
    std::string smtp_code = "";          // Reject/Tempfail: "550", "451"
    std::string smtp_xcode = "";         // "5.7.1"
    std::string smtp_text = "";          // reply text, placeholders already expanded
    std::string quarantine_reason = "";  // Quarantine (also set when a copy is quarantined while delivering)
    std::vector<std::string> redirect_to{};  // delivered to these instead of the recipient
    std::string decided_by = "";          // name of the rule that made the final choice, "" = default
};

enum class HeaderEditKind { Add, Replace, Remove };
struct HeaderEdit {
    HeaderEditKind kind;
    std::string name;
    std::string value;  // Add/Replace
};

struct TraceLine {
    std::string rule;       // rule name
    std::string recipient;  // "" when the rule ran for the whole message
    bool matched = false;
    std::string why;        // which conditions held or failed, in words
    std::vector<std::string> actions;  // actions taken, as written in the policy
};

struct Notification {
    std::string to;        // address
    std::string template_name;
    std::string recipient; // whom it is about
};

struct Decision {
    std::vector<RecipientDecision> recipients;  // same order as Envelope::recipients
    std::vector<HeaderEdit> header_edits;       // for the delivered copy (all delivered recipients)
    std::string subject_tag;                    // prepended to Subject of the delivered copy, "" = none
    std::vector<std::string> add_recipients;    // copy_to: extra recipients of the delivered copy
    std::vector<Notification> notifications;
    std::vector<TraceLine> trace;
    bool any_quarantine() const;
};

}  // namespace pmx::policy
