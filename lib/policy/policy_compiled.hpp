// The compiled form of policy.toml: private to lib/policy (parser and engine).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/address_match.hpp"
#include "policy/lists.hpp"
#include "policy/regex.hpp"

namespace pmx::policy {

// A text with {placeholders}, split once at load time.
// Filename: remove_infected's note only (the removed part's file name).
enum class Placeholder : std::uint8_t { Literal, Sender, Recipient, SpamScore, SpamRules, VirusName, Rule, ClientIp, QueueId, Filename };

struct TextTemplate {
    struct Segment {
        Placeholder kind = Placeholder::Literal;
        std::string literal;
    };
    std::vector<Segment> segments;
    bool uses(Placeholder p) const {
        for (const auto& s : segments)
            if (s.kind == p) return true;
        return false;
    }
    bool empty() const { return segments.empty(); }
};

enum class CondKind : std::uint8_t {
    All,  // the when table and each alternative of any: every child holds
    Any,
    Not,
    Sender,
    Recipient,
    SenderGroup,
    RecipientGroup,
    ClientIp,
    ClientHostname,
    Helo,
    Authenticated,
    AuthUser,
    Header,
    HeaderExists,
    Body,
    SizeAtLeast,
    SizeBelow,
    AttachmentName,
    AttachmentType,
    MimeFlag,
    SpamScoreAtLeast,
    SpamScoreBelow,
    SpamRule,
    Virus,
    VirusName,
    Unscannable,
    SenderIn,
    ClientIn,
    InternalSender,
    InternalRecipient,
    Direction,
};

enum class ListScope : std::uint8_t { Both, Global, Personal };
enum class Direction : std::uint8_t { Inbound, Outbound, Internal, Transit };

struct Condition {
    CondKind kind = CondKind::All;
    std::string key;    // as written: "sender_in", "header"
    std::string shown;  // the value as written, for traces: "\"allow\"", "[\"*.exe\", \"*.scr\"]"
    std::uint32_t line = 0, column = 0;

    std::vector<AddressPattern> addresses;   // Sender, Recipient
    std::vector<std::string> words;          // lowercased globs: Helo, AuthUser, Attachment*, MimeFlag, SpamRule, VirusName
    std::vector<HostnamePattern> hostnames;  // ClientHostname
    std::vector<Cidr> networks;              // ClientIp
    std::vector<std::size_t> groups;         // SenderGroup, RecipientGroup: indexes into CompiledPolicy::groups
    std::string header_name;                 // Header, HeaderExists
    std::optional<Regex> regex;              // Header, Body
    double number = 0;                       // spam score thresholds
    std::uint64_t size = 0;                  // size thresholds, bytes
    bool flag = false;                       // Authenticated, Virus, Unscannable, Internal*
    ListKind list = ListKind::Allow;         // SenderIn, ClientIn
    ListScope scope = ListScope::Both;
    Direction direction = Direction::Inbound;
    std::vector<Condition> children;         // All, Any, Not (Not holds one All)
};

enum class ActKind : std::uint8_t {
    Accept,
    Quarantine,
    Reject,
    Tempfail,
    Discard,
    Redirect,
    AddHeader,
    ReplaceHeader,
    RemoveHeader,
    TagSubject,
    QuarantineCopy,
    CopyTo,
    Notify,
    RemoveInfected,
};

inline bool is_final(ActKind k) { return k <= ActKind::Redirect; }

enum class NotifyTarget : std::uint8_t { Address, Sender, Recipient, Admin };

struct Action {
    ActKind kind = ActKind::Accept;
    std::string written;  // as written in then = [...], for traces
    std::uint32_t line = 0, column = 0;
    std::string code, xcode;            // Reject, Tempfail: "550", "5.7.1"
    TextTemplate text;                  // reply text, quarantine reason, header value, subject tag, removal note
    std::string header_name;            // *Header
    std::vector<std::string> addresses; // Redirect, CopyTo, Notify (Address)
    NotifyTarget notify = NotifyTarget::Address;
    std::string template_name;          // Notify
};

struct Rule {
    std::string name;
    std::uint32_t line = 0, column = 0;
    bool per_recipient = false;
    bool unconditional = false;    // no when: always matches
    Condition when;                // CondKind::All
    std::vector<Action> actions;
    int final_action = -1;         // index into actions, -1 when the rule does not end the run
};

struct Group {
    std::string name;
    std::vector<AddressPattern> members;
};

struct CompiledPolicy {
    std::string file;
    std::vector<Rule> rules;  // enabled rules, in order
    std::size_t disabled = 0;
    std::vector<Group> groups;
    std::vector<std::string> warnings;
    bool uses_internal_domains = false;
    std::size_t header_actions = 0;  // add/replace/remove_header actions in all rules: reserved once per recipient
};

}  // namespace pmx::policy
