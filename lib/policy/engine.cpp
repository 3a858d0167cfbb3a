// Evaluation: rules in order; message-wide rules test their conditions once, per-recipient rules
// once per recipient still undecided. Nothing is formatted unless tracing or an action needs text.
#include "policy/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "policy/policy_compiled.hpp"

namespace pmx::policy {

bool Site::internal_client(std::string_view client_ip, std::string_view auth_user) const {
    if (!auth_user.empty() || client_ip.empty()) return true;
    auto ip = IpAddress::parse(client_ip);
    if (!ip) return false;
    return std::any_of(internal_networks.begin(), internal_networks.end(), [&](const Cidr& c) { return c.contains(*ip); });
}

bool Site::internal_address(std::string_view address) const {
    auto domain = domain_of(address);
    return std::any_of(internal_domains.begin(), internal_domains.end(),
                       [&](const DomainPattern& d) { return d.matches(domain); });
}

namespace {

// A short, single-line quote of text from the message, for traces.
std::string quote(std::string_view s, std::size_t max = 60) {
    std::string out = "\"";
    std::size_t n = 0;
    for (unsigned char c : s) {
        if (n++ == max) {
            out += "...";
            break;
        }
        out += c < 0x20 ? ' ' : static_cast<char>(c);
    }
    return out + "\"";
}

std::string_view list_name(ListKind k) { return k == ListKind::Allow ? "allow" : "block"; }

class Evaluator {
public:
    Evaluator(const CompiledPolicy& p, const Envelope& env, const mail::ParsedMessage& msg, const ScanFacts& scan,
              const ListLookup& lists, const Site& site, bool trace)
        : p_(p), env_(env), msg_(msg), scan_(scan), lists_(lists), site_(site), trace_(trace) {}

    Decision run();

private:
    bool test(const Condition& c, std::string* why);
    bool test_leaf(const Condition& c, std::string* why);
    bool all(const Condition& c, std::string* why);

    bool internal_sender();
    std::string_view rcpt() const { return rcpt_ ? std::string_view(*rcpt_) : std::string_view{}; }
    // Whose personal lists count for the recipient under test: their own, then their domain's
    // ("@example.org", kept by a group admin for everyone there).
    std::vector<std::string> personal_owners() const {
        std::vector<std::string> owners{*rcpt_};
        if (auto at = rcpt_->rfind('@'); at != std::string::npos && at > 0 && at + 1 < rcpt_->size())
            owners.push_back(rcpt_->substr(at));
        return owners;
    }
    const IpAddress* client_ip();
    bool sender_listed(const Condition& c, std::string* why);
    bool client_listed(const Condition& c, std::string* why);

    void apply(const Rule& r, std::size_t i);  // a matched rule's actions for recipient i
    void apply_once(const Rule& r);            // actions done once per matched message-wide rule
    std::string expand(const TextTemplate& t, const Rule& r, std::string_view recipient, bool smtp);
    std::vector<NoteSegment> removal_note(const TextTemplate& t, const Rule& r, std::string_view recipient);
    const std::string& spam_score_text();
    const std::string& spam_rules_text();
    const std::string& virus_text();

    const CompiledPolicy& p_;
    const Envelope& env_;
    const mail::ParsedMessage& msg_;
    const ScanFacts& scan_;
    const ListLookup& lists_;
    const Site& site_;
    bool trace_;

    Decision d_;
    std::vector<char> open_;
    std::size_t open_count_ = 0;
    const std::string* rcpt_ = nullptr;  // recipient under test; nullptr for a message-wide rule

    // Per-message facts, computed on first use.
    signed char internal_sender_ = -1;
    bool ip_parsed_ = false;
    std::optional<IpAddress> ip_;
    signed char global_sender_[2] = {-1, -1}, global_host_[2] = {-1, -1};
    std::string global_sender_entry_[2], global_host_entry_[2];
    std::optional<std::string> spam_score_text_, spam_rules_text_, virus_text_;
};

const IpAddress* Evaluator::client_ip() {
    if (!ip_parsed_) {
        ip_parsed_ = true;
        ip_ = IpAddress::parse(env_.client_ip);
    }
    return ip_ ? &*ip_ : nullptr;
}

bool Evaluator::internal_sender() {
    if (internal_sender_ < 0) internal_sender_ = site_.internal_client(env_.client_ip, env_.auth_user) ? 1 : 0;
    return internal_sender_ == 1;
}

std::string describe_internal_sender(const Envelope& env, bool internal) {
    if (!env.auth_user.empty()) return fmt::format("internal sender (authenticated as {})", env.auth_user);
    if (env.client_ip.empty()) return "internal sender (local submission, no client address)";
    return fmt::format("{} sender (client {} is {}in general.internal_networks)", internal ? "internal" : "external",
                       env.client_ip, internal ? "" : "not ");
}

bool Evaluator::sender_listed(const Condition& c, std::string* why) {
    const auto& sender = env_.sender;
    if (sender.empty()) {
        if (why) fmt::format_to(std::back_inserter(*why), "the null sender is on no list");
        return false;
    }
    int k = c.list == ListKind::Allow ? 0 : 1;
    if (c.scope != ListScope::Personal) {
        if (global_sender_[k] < 0) {
            if (trace_) {
                auto e = lists_.sender_entry(c.list, "", sender);
                global_sender_[k] = e ? 1 : 0;
                if (e) global_sender_entry_[k] = std::move(*e);
            } else {
                global_sender_[k] = lists_.sender_listed(c.list, "", sender) ? 1 : 0;
            }
        }
        if (global_sender_[k]) {
            if (why)
                fmt::format_to(std::back_inserter(*why), "sender {} is on the global {} list{}", sender, list_name(c.list),
                               global_sender_entry_[k].empty() ? "" : fmt::format(" (entry \"{}\")", global_sender_entry_[k]));
            return true;
        }
    }
    if (c.scope != ListScope::Global && rcpt_) {
        for (const auto& owner : personal_owners()) {
            if (why) {
                auto e = lists_.sender_entry(c.list, owner, sender);
                if (e) {
                    fmt::format_to(std::back_inserter(*why), "sender {} is on the {} list of {}{}", sender,
                                   list_name(c.list), owner, e->empty() ? "" : fmt::format(" (entry \"{}\")", *e));
                    return true;
                }
            } else if (lists_.sender_listed(c.list, owner, sender)) {
                return true;
            }
        }
    }
    if (why) {
        if (c.scope == ListScope::Global)
            fmt::format_to(std::back_inserter(*why), "sender {} is not on the global {} list", sender, list_name(c.list));
        else if (c.scope == ListScope::Personal)
            fmt::format_to(std::back_inserter(*why), "sender {} is not on the {} list of {}", sender, list_name(c.list),
                           rcpt());
        else
            fmt::format_to(std::back_inserter(*why), "sender {} is neither on the global {} list nor on that of {}", sender,
                           list_name(c.list), rcpt());
    }
    return false;
}

bool Evaluator::client_listed(const Condition& c, std::string* why) {
    const auto& ip = env_.client_ip;
    const auto& host = env_.client_hostname;
    std::string_view shown_host = host.empty() || host == "unknown" ? std::string_view{} : std::string_view(host);
    if (ip.empty() && shown_host.empty()) {
        if (why) fmt::format_to(std::back_inserter(*why), "no client address or hostname");
        return false;
    }
    std::string client;
    if (why) client = shown_host.empty() ? std::string(ip) : fmt::format("{} ({})", ip, shown_host);
    int k = c.list == ListKind::Allow ? 0 : 1;
    if (c.scope != ListScope::Personal) {
        if (global_host_[k] < 0) {
            if (trace_) {
                auto e = lists_.host_entry(c.list, "", ip, shown_host);
                global_host_[k] = e ? 1 : 0;
                if (e) global_host_entry_[k] = std::move(*e);
            } else {
                global_host_[k] = lists_.host_listed(c.list, "", ip, shown_host) ? 1 : 0;
            }
        }
        if (global_host_[k]) {
            if (why)
                fmt::format_to(std::back_inserter(*why), "client {} is on the global {} list{}", client, list_name(c.list),
                               global_host_entry_[k].empty() ? "" : fmt::format(" (entry \"{}\")", global_host_entry_[k]));
            return true;
        }
    }
    if (c.scope != ListScope::Global && rcpt_) {
        for (const auto& owner : personal_owners()) {
            if (why) {
                if (auto e = lists_.host_entry(c.list, owner, ip, shown_host)) {
                    fmt::format_to(std::back_inserter(*why), "client {} is on the {} list of {}{}", client,
                                   list_name(c.list), owner, e->empty() ? "" : fmt::format(" (entry \"{}\")", *e));
                    return true;
                }
            } else if (lists_.host_listed(c.list, owner, ip, shown_host)) {
                return true;
            }
        }
    }
    if (why) {
        if (c.scope == ListScope::Global)
            fmt::format_to(std::back_inserter(*why), "client {} is not on the global {} list", client, list_name(c.list));
        else if (c.scope == ListScope::Personal)
            fmt::format_to(std::back_inserter(*why), "client {} is not on the {} list of {}", client, list_name(c.list), rcpt());
        else
            fmt::format_to(std::back_inserter(*why), "client {} is neither on the global {} list nor on that of {}", client,
                           list_name(c.list), rcpt());
    }
    return false;
}

bool Evaluator::all(const Condition& c, std::string* why) {
    if (!why) {
        for (const auto& child : c.children)
            if (!test(child, nullptr)) return false;
        return true;
    }
    std::string held;
    for (const auto& child : c.children) {
        std::string one;
        if (!test(child, &one)) {
            *why += one;
            return false;
        }
        held += (held.empty() ? "" : "; ") + one;
    }
    *why += held;
    return true;
}

bool Evaluator::test(const Condition& c, std::string* why) {
    switch (c.kind) {
        case CondKind::All: return all(c, why);
        case CondKind::Any: {
            if (!why) {
                for (const auto& alt : c.children)
                    if (all(alt, nullptr)) return true;
                return false;
            }
            std::string failures;
            for (std::size_t i = 0; i < c.children.size(); ++i) {
                std::string one;
                if (all(c.children[i], &one)) {
                    fmt::format_to(std::back_inserter(*why), "any: alternative {} of {} held ({})", i + 1,
                                   c.children.size(), one);
                    return true;
                }
                failures += (failures.empty() ? "" : " | ") + one;
            }
            fmt::format_to(std::back_inserter(*why), "any: no alternative held ({})", failures);
            return false;
        }
        case CondKind::Not: {
            if (!why) return !all(c.children.front(), nullptr);
            std::string inner;
            bool held = all(c.children.front(), &inner);
            fmt::format_to(std::back_inserter(*why), "not {}: {}", c.shown, inner);
            return !held;
        }
        default: {
            if (!why) return test_leaf(c, nullptr);
            if (c.kind == CondKind::Header) fmt::format_to(std::back_inserter(*why), "header {}: ", c.shown);
            else fmt::format_to(std::back_inserter(*why), "{} = {}: ", c.key, c.shown);
            return test_leaf(c, why);
        }
    }
}

template <class... Args>
void say(std::string* why, fmt::format_string<Args...> f, Args&&... args) {
    if (why) fmt::format_to(std::back_inserter(*why), f, std::forward<Args>(args)...);
}

bool Evaluator::test_leaf(const Condition& c, std::string* why) {
    switch (c.kind) {
        case CondKind::Sender:
        case CondKind::Recipient: {
            bool is_sender = c.kind == CondKind::Sender;
            std::string_view addr = is_sender ? std::string_view(env_.sender) : rcpt();
            for (const auto& p : c.addresses)
                if (p.matches(addr)) {
                    say(why, "{} {} matches \"{}\"", is_sender ? "sender" : "recipient", addr.empty() ? "<>" : addr, p.text());
                    return true;
                }
            say(why, "{} {} matches none", is_sender ? "sender" : "recipient", addr.empty() ? "<>" : addr);
            return false;
        }
        case CondKind::SenderGroup:
        case CondKind::RecipientGroup: {
            bool is_sender = c.kind == CondKind::SenderGroup;
            std::string_view addr = is_sender ? std::string_view(env_.sender) : rcpt();
            for (auto g : c.groups)
                for (const auto& m : p_.groups[g].members)
                    if (m.matches(addr)) {
                        say(why, "{} {} is in group \"{}\" (member \"{}\")", is_sender ? "sender" : "recipient",
                            addr.empty() ? "<>" : addr, p_.groups[g].name, m.text());
                        return true;
                    }
            say(why, "{} {} is in none of the groups", is_sender ? "sender" : "recipient", addr.empty() ? "<>" : addr);
            return false;
        }
        case CondKind::ClientIp: {
            const auto* ip = client_ip();
            if (!ip) {
                say(why, "{}", env_.client_ip.empty() ? std::string("no client address (local submission)")
                                                      : fmt::format("client address \"{}\" is not an IP address", env_.client_ip));
                return false;
            }
            for (const auto& n : c.networks)
                if (n.contains(*ip)) {
                    say(why, "client {} is in {}", env_.client_ip, n.text());
                    return true;
                }
            say(why, "client {} is in none", env_.client_ip);
            return false;
        }
        case CondKind::ClientHostname: {
            for (const auto& h : c.hostnames)
                if (h.matches(env_.client_hostname)) {
                    say(why, "client hostname {} matches \"{}\"",
                        env_.client_hostname.empty() ? "(none)" : env_.client_hostname, h.text());
                    return true;
                }
            say(why, "client hostname {} matches none", env_.client_hostname.empty() ? "(none)" : env_.client_hostname);
            return false;
        }
        case CondKind::Helo:
        case CondKind::AuthUser: {
            const auto& subject = c.kind == CondKind::Helo ? env_.helo : env_.auth_user;
            if (!subject.empty())
                for (const auto& w : c.words)
                    if (glob_match(w, subject)) {
                        say(why, "{} {} matches \"{}\"", c.kind == CondKind::Helo ? "HELO" : "login", subject, w);
                        return true;
                    }
            say(why, "{} {} matches none", c.kind == CondKind::Helo ? "HELO" : "login",
                subject.empty() ? std::string_view("(none)") : std::string_view(subject));
            return false;
        }
        case CondKind::Authenticated: {
            bool auth = !env_.auth_user.empty();
            if (auth) say(why, "authenticated as {}", env_.auth_user);
            else say(why, "not authenticated");
            return auth == c.flag;
        }
        case CondKind::Header: {
            bool limit = false;
            std::size_t seen = 0;
            for (const auto& h : msg_.headers) {
                if (!iequals(h.name, c.header_name)) continue;
                ++seen;
                auto m = c.regex->match(h.value);
                if (m == Regex::Match::Yes) {
                    say(why, "matched {}: {}", h.name, quote(h.value));
                    return true;
                }
                if (m == Regex::Match::LimitHit) limit = true;
            }
            if (seen == 0) say(why, "no {} header", c.header_name);
            else say(why, "{} {} header{} did not match{}", seen, c.header_name, seen == 1 ? "" : "s",
                     limit ? " (regex match limit hit: counted as no match)" : "");
            return false;
        }
        case CondKind::HeaderExists: {
            for (const auto& h : msg_.headers)
                for (const auto& w : c.words)
                    if (iequals(h.name, w)) {
                        say(why, "has {}: {}", h.name, quote(h.value));
                        return true;
                    }
            say(why, "no such header");
            return false;
        }
        case CondKind::Body: {
            auto m = c.regex->match(msg_.text);
            if (m == Regex::Match::Yes) say(why, "the body text matches");
            else if (m == Regex::Match::LimitHit) say(why, "regex match limit hit on the body (counted as no match)");
            else say(why, "the body text ({} bytes) does not match", msg_.text.size());
            return m == Regex::Match::Yes;
        }
        case CondKind::SizeAtLeast:
        case CondKind::SizeBelow: {
            bool r = c.kind == CondKind::SizeAtLeast ? msg_.size >= c.size : msg_.size < c.size;
            say(why, "size {} bytes", msg_.size);
            return r;
        }
        case CondKind::AttachmentName:
        case CondKind::AttachmentType: {
            bool by_name = c.kind == CondKind::AttachmentName;
            std::size_t count = 0;
            for (const auto& part : msg_.parts) {
                if (by_name ? part.filename.empty() : !part.is_attachment) continue;
                ++count;
                const auto& subject = by_name ? part.filename : part.content_type;
                for (const auto& w : c.words)
                    if (glob_match(w, subject)) {
                        say(why, "attachment {} ({}) matches \"{}\"", quote(part.filename), part.content_type, w);
                        return true;
                    }
            }
            if (count == 0) say(why, "no attachments");
            else say(why, "none of {} attachment{} matches", count, count == 1 ? "" : "s");
            return false;
        }
        case CondKind::MimeFlag: {
            for (const auto& f : msg_.flags)
                for (const auto& w : c.words)
                    if (glob_match(w, f)) {
                        say(why, "the MIME parser flagged {}", f);
                        return true;
                    }
            if (msg_.flags.empty()) say(why, "no MIME flags");
            else say(why, "MIME flags {} match none", fmt::join(msg_.flags, ","));
            return false;
        }
        case CondKind::SpamScoreAtLeast:
        case CondKind::SpamScoreBelow: {
            if (!scan_.spam_score) {
                say(why, "no spam score (the spam scanner did not run): does not match");
                return false;
            }
            double s = *scan_.spam_score;
            say(why, "score {:.1f}", s);
            return c.kind == CondKind::SpamScoreAtLeast ? s >= c.number : s < c.number;
        }
        case CondKind::SpamRule: {
            for (const auto& hit : scan_.spam_rules)
                for (const auto& w : c.words)
                    if (glob_match(w, hit)) {
                        say(why, "rule {} hit", hit);
                        return true;
                    }
            if (!scan_.spam_score && scan_.spam_rules.empty()) say(why, "the spam scanner did not run");
            else say(why, "none of {} rule hits matches", scan_.spam_rules.size());
            return false;
        }
        case CondKind::Virus: {
            if (scan_.virus) say(why, "virus found ({})", virus_text());
            else say(why, "no virus found (or the virus scanner did not run)");
            return scan_.virus == c.flag;
        }
        case CondKind::VirusName: {
            for (const auto& v : scan_.virus_names)
                for (const auto& w : c.words)
                    if (glob_match(w, v)) {
                        say(why, "virus {}", v);
                        return true;
                    }
            say(why, "{}", scan_.virus_names.empty() ? "no virus names" : "no virus name matches");
            return false;
        }
        case CondKind::Unscannable: {
            say(why, "{}", scan_.unscannable ? "the scanner could not scan it" : "scannable (or not scanned)");
            return scan_.unscannable == c.flag;
        }
        case CondKind::SenderIn: return sender_listed(c, why);
        case CondKind::ClientIn: return client_listed(c, why);
        case CondKind::InternalSender: {
            bool in = internal_sender();
            if (why) *why += describe_internal_sender(env_, in);
            return in == c.flag;
        }
        case CondKind::InternalRecipient: {
            bool in = rcpt_ && site_.internal_address(*rcpt_);
            say(why, "recipient {} is {}", rcpt(), in ? "internal" : "external (not in general.internal_domains)");
            return in == c.flag;
        }
        case CondKind::Direction: {
            bool from_in = internal_sender();
            bool to_in = rcpt_ && site_.internal_address(*rcpt_);
            Direction d = from_in ? (to_in ? Direction::Internal : Direction::Outbound)
                                  : (to_in ? Direction::Inbound : Direction::Transit);
            static constexpr std::string_view names[] = {"inbound", "outbound", "internal", "transit"};
            say(why, "{} ({} sender, {} recipient)", names[static_cast<int>(d)], from_in ? "internal" : "external",
                to_in ? "internal" : "external");
            return d == c.direction;
        }
        case CondKind::All:
        case CondKind::Any:
        case CondKind::Not: break;
    }
    return false;
}

const std::string& Evaluator::spam_score_text() {
    if (!spam_score_text_) spam_score_text_ = scan_.spam_score ? fmt::format("{:.1f}", *scan_.spam_score) : "none";
    return *spam_score_text_;
}
const std::string& Evaluator::spam_rules_text() {
    if (!spam_rules_text_) spam_rules_text_ = fmt::format("{}", fmt::join(scan_.spam_rules, ","));
    return *spam_rules_text_;
}
const std::string& Evaluator::virus_text() {
    if (!virus_text_) virus_text_ = fmt::format("{}", fmt::join(scan_.virus_names, ", "));
    return *virus_text_;
}

// Placeholder values come from the sender and the scanners: strip what would break a header or
// an SMTP reply (line breaks, control characters; non-ASCII in replies).
void append_clean(std::string& out, std::string_view value, bool smtp) {
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f) out += ' ';
        else if (smtp && c > 0x7e) out += '?';
        else out += static_cast<char>(c);
    }
}

std::string Evaluator::expand(const TextTemplate& t, const Rule& r, std::string_view recipient, bool smtp) {
    std::string out;
    for (const auto& s : t.segments) {
        switch (s.kind) {
            case Placeholder::Literal: out += s.literal; break;
            case Placeholder::Sender: append_clean(out, env_.sender.empty() ? "<>" : env_.sender, smtp); break;
            case Placeholder::Recipient: append_clean(out, recipient, smtp); break;
            case Placeholder::SpamScore: out += spam_score_text(); break;
            case Placeholder::SpamRules: append_clean(out, spam_rules_text(), smtp); break;
            case Placeholder::VirusName: append_clean(out, virus_text(), smtp); break;
            case Placeholder::Rule: append_clean(out, r.name, smtp); break;
            case Placeholder::ClientIp: append_clean(out, env_.client_ip, smtp); break;
            case Placeholder::QueueId: append_clean(out, env_.queue_id, smtp); break;
            case Placeholder::Filename: break;  // remove_infected's note only (removal_note)
        }
    }
    return out;
}

// The note keeps {filename} and {virus_name} open: the milter fills them per removed part.
std::vector<NoteSegment> Evaluator::removal_note(const TextTemplate& t, const Rule& r, std::string_view recipient) {
    std::vector<NoteSegment> out;
    auto text = [&]() -> std::string& {
        if (out.empty() || out.back().kind != NoteSegment::Kind::Text) out.push_back({NoteSegment::Kind::Text, ""});
        return out.back().text;
    };
    for (const auto& s : t.segments) {
        if (s.kind == Placeholder::Filename) out.push_back({NoteSegment::Kind::FileName, ""});
        else if (s.kind == Placeholder::VirusName) out.push_back({NoteSegment::Kind::VirusName, ""});
        else text() += expand(TextTemplate{{s}}, r, recipient, false);
    }
    return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void Evaluator::apply_once(const Rule& r) {
    for (const auto& a : r.actions) {
        if (a.kind == ActKind::CopyTo) {
            for (const auto& addr : a.addresses) add_unique(d_.add_recipients, addr);
        } else if (a.kind == ActKind::Notify && a.notify != NotifyTarget::Recipient) {
            if (a.notify == NotifyTarget::Sender) {
                if (!env_.sender.empty()) d_.notifications.push_back({env_.sender, a.template_name, "", false, r.name});
            } else if (a.notify == NotifyTarget::Admin) {
                d_.notifications.push_back({"", a.template_name, "", true, r.name});
            } else {
                d_.notifications.push_back({a.addresses.front(), a.template_name, "", false, r.name});
            }
        }
    }
}

void Evaluator::apply(const Rule& r, std::size_t i) {
    auto& rd = d_.recipients[i];
    const std::string& rcpt = env_.recipients[i];
    if (rd.header_edits.capacity() == 0) rd.header_edits.reserve(p_.header_actions);
    for (const auto& a : r.actions) {
        switch (a.kind) {
            case ActKind::AddHeader:
                rd.header_edits.push_back({HeaderEditKind::Add, a.header_name, expand(a.text, r, rcpt, false)});
                break;
            case ActKind::ReplaceHeader:
                rd.header_edits.push_back({HeaderEditKind::Replace, a.header_name, expand(a.text, r, rcpt, false)});
                break;
            case ActKind::RemoveHeader: rd.header_edits.push_back({HeaderEditKind::Remove, a.header_name, ""}); break;
            case ActKind::TagSubject: {
                auto tag = expand(a.text, r, rcpt, false);
                if (rd.subject_tag.find(tag) == std::string::npos)
                    rd.subject_tag += (rd.subject_tag.empty() ? "" : " ") + tag;
                break;
            }
            case ActKind::QuarantineCopy:
                if (rd.quarantine_reason.empty()) rd.quarantine_reason = expand(a.text, r, rcpt, false);
                break;
            case ActKind::Notify:
                if (a.notify == NotifyTarget::Recipient) d_.notifications.push_back({rcpt, a.template_name, rcpt, false, r.name});
                else if (r.per_recipient) {
                    // Message-wide rules notify once (apply_once); per-recipient ones once per recipient.
                    if (a.notify == NotifyTarget::Sender) {
                        if (!env_.sender.empty())
                            d_.notifications.push_back({env_.sender, a.template_name, rcpt, false, r.name});
                    } else if (a.notify == NotifyTarget::Admin) {
                        d_.notifications.push_back({"", a.template_name, rcpt, true, r.name});
                    } else {
                        d_.notifications.push_back({a.addresses.front(), a.template_name, rcpt, false, r.name});
                    }
                }
                break;
            case ActKind::RemoveInfected:
                rd.remove_infected = true;
                if (d_.removal_note.empty()) d_.removal_note = removal_note(a.text, r, rcpt);
                break;
            case ActKind::CopyTo:
                if (r.per_recipient)
                    for (const auto& addr : a.addresses) add_unique(d_.add_recipients, addr);
                break;
            default: break;  // final actions below
        }
    }
    if (r.final_action < 0) return;
    const auto& a = r.actions[static_cast<std::size_t>(r.final_action)];
    rd.decided_by = r.name;
    open_[i] = 0;
    --open_count_;
    switch (a.kind) {
        case ActKind::Accept: rd.outcome = Outcome::Accept; break;
        case ActKind::Quarantine:
            rd.outcome = Outcome::Quarantine;
            rd.quarantine_reason = expand(a.text, r, rcpt, false);
            break;
        case ActKind::Reject:
        case ActKind::Tempfail:
            rd.outcome = a.kind == ActKind::Reject ? Outcome::Reject : Outcome::Tempfail;
            rd.smtp_code = a.code;
            rd.smtp_xcode = a.xcode;
            rd.smtp_text = expand(a.text, r, rcpt, true);
            break;
        case ActKind::Discard: rd.outcome = Outcome::Discard; break;
        case ActKind::Redirect:
            rd.outcome = Outcome::Accept;
            rd.redirect_to = a.addresses;
            break;
        default: break;
    }
}

std::vector<std::string> written_actions(const Rule& r) {
    std::vector<std::string> out;
    out.reserve(r.actions.size());
    for (const auto& a : r.actions) out.push_back(a.written);
    return out;
}

Decision Evaluator::run() {
    const std::size_t n = env_.recipients.size();
    d_.recipients.resize(n);
    for (std::size_t i = 0; i < n; ++i) d_.recipients[i].recipient = env_.recipients[i];
    open_.assign(n, 1);
    open_count_ = n;

    std::string why;
    std::string* w = trace_ ? &why : nullptr;
    for (const auto& r : p_.rules) {
        if (open_count_ == 0) break;
        if (!r.per_recipient) {
            rcpt_ = nullptr;
            why.clear();
            bool m = r.unconditional || test(r.when, w);
            if (trace_)
                d_.trace.push_back({r.name, "", m, r.unconditional ? "no conditions: always" : why,
                                    m ? written_actions(r) : std::vector<std::string>{}});
            if (!m) continue;
            apply_once(r);
            for (std::size_t i = 0; i < n; ++i)
                if (open_[i]) apply(r, i);
            continue;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (!open_[i]) continue;
            rcpt_ = &env_.recipients[i];
            why.clear();
            bool m = r.unconditional || test(r.when, w);
            if (trace_)
                d_.trace.push_back({r.name, *rcpt_, m, r.unconditional ? "no conditions: always" : why,
                                    m ? written_actions(r) : std::vector<std::string>{}});
            if (m) apply(r, i);
        }
        rcpt_ = nullptr;
    }

    // The shared copy: what every delivered recipient gets, as a union when they differ.
    for (const auto& rd : d_.recipients) {
        if (rd.outcome != Outcome::Accept) continue;
        for (const auto& e : rd.header_edits)
            if (std::find(d_.header_edits.begin(), d_.header_edits.end(), e) == d_.header_edits.end())
                d_.header_edits.push_back(e);
        if (!rd.subject_tag.empty() && d_.subject_tag.find(rd.subject_tag) == std::string::npos)
            d_.subject_tag += (d_.subject_tag.empty() ? "" : " ") + rd.subject_tag;
    }
    return std::move(d_);
}

}  // namespace

Decision evaluate(const Policy& policy, const Envelope& envelope, const mail::ParsedMessage& message,
                  const ScanFacts& scan, const ListLookup& lists, const Site& site, const EvalOptions& options) {
    Evaluator e(policy.compiled(), envelope, message, scan, lists, site, options.trace);
    return e.run();
}

}  // namespace pmx::policy
