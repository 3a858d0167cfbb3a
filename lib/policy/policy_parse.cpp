// policy.toml → CompiledPolicy. Every problem is collected with its file:line:column, so one run of
// `pmx policy check` shows them all, in file order.
#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "config/schema.hpp"
#include "policy/engine.hpp"
#include "policy/policy_compiled.hpp"
#include "util/atomic_file.hpp"

namespace pmx::policy {

namespace {

// ---------------------------------------------------------------------------------------------
// The vocabulary

enum class ValueType : std::uint8_t { Strings, Bool, Number, Size, Choice, HeaderTable, SubTable, SubTables };

struct CondSpec {
    std::string_view name;
    CondKind kind;
    ValueType type;
    bool per_recipient;  // depends on the recipient whatever its value
};

constexpr std::array cond_specs{
    CondSpec{"sender", CondKind::Sender, ValueType::Strings, false},
    CondSpec{"recipient", CondKind::Recipient, ValueType::Strings, true},
    CondSpec{"sender_group", CondKind::SenderGroup, ValueType::Strings, false},
    CondSpec{"recipient_group", CondKind::RecipientGroup, ValueType::Strings, true},
    CondSpec{"client_ip", CondKind::ClientIp, ValueType::Strings, false},
    CondSpec{"client_hostname", CondKind::ClientHostname, ValueType::Strings, false},
    CondSpec{"helo", CondKind::Helo, ValueType::Strings, false},
    CondSpec{"authenticated", CondKind::Authenticated, ValueType::Bool, false},
    CondSpec{"auth_user", CondKind::AuthUser, ValueType::Strings, false},
    CondSpec{"header", CondKind::Header, ValueType::HeaderTable, false},
    CondSpec{"header_exists", CondKind::HeaderExists, ValueType::Strings, false},
    CondSpec{"body", CondKind::Body, ValueType::Strings, false},
    CondSpec{"size_at_least", CondKind::SizeAtLeast, ValueType::Size, false},
    CondSpec{"size_below", CondKind::SizeBelow, ValueType::Size, false},
    CondSpec{"attachment_name", CondKind::AttachmentName, ValueType::Strings, false},
    CondSpec{"attachment_type", CondKind::AttachmentType, ValueType::Strings, false},
    CondSpec{"mime_flag", CondKind::MimeFlag, ValueType::Strings, false},
    CondSpec{"spam_score_at_least", CondKind::SpamScoreAtLeast, ValueType::Number, false},
    CondSpec{"spam_score_below", CondKind::SpamScoreBelow, ValueType::Number, false},
    CondSpec{"spam_rule", CondKind::SpamRule, ValueType::Strings, false},
    CondSpec{"virus", CondKind::Virus, ValueType::Bool, false},
    CondSpec{"virus_name", CondKind::VirusName, ValueType::Strings, false},
    CondSpec{"unscannable", CondKind::Unscannable, ValueType::Bool, false},
    CondSpec{"sender_in", CondKind::SenderIn, ValueType::Choice, false},  // per recipient unless global-*
    CondSpec{"client_in", CondKind::ClientIn, ValueType::Choice, false},
    CondSpec{"internal_sender", CondKind::InternalSender, ValueType::Bool, false},
    CondSpec{"internal_recipient", CondKind::InternalRecipient, ValueType::Bool, true},
    CondSpec{"direction", CondKind::Direction, ValueType::Choice, true},
    CondSpec{"any", CondKind::Any, ValueType::SubTables, false},
    CondSpec{"not", CondKind::Not, ValueType::SubTable, false},
};

struct ActSpec {
    std::string_view name;
    ActKind kind;
};

constexpr std::array act_specs{
    ActSpec{"accept", ActKind::Accept},          ActSpec{"quarantine", ActKind::Quarantine},
    ActSpec{"reject", ActKind::Reject},          ActSpec{"tempfail", ActKind::Tempfail},
    ActSpec{"discard", ActKind::Discard},        ActSpec{"redirect", ActKind::Redirect},
    ActSpec{"add_header", ActKind::AddHeader},   ActSpec{"replace_header", ActKind::ReplaceHeader},
    ActSpec{"remove_header", ActKind::RemoveHeader}, ActSpec{"tag_subject", ActKind::TagSubject},
    ActSpec{"quarantine_copy", ActKind::QuarantineCopy}, ActSpec{"copy_to", ActKind::CopyTo},
    ActSpec{"notify", ActKind::Notify},          ActSpec{"remove_infected", ActKind::RemoveInfected},
};

constexpr std::array<std::pair<std::string_view, Placeholder>, 9> placeholders{{
    {"sender", Placeholder::Sender},
    {"recipient", Placeholder::Recipient},
    {"spam_score", Placeholder::SpamScore},
    {"spam_rules", Placeholder::SpamRules},
    {"virus_name", Placeholder::VirusName},
    {"rule", Placeholder::Rule},
    {"client_ip", Placeholder::ClientIp},
    {"queue_id", Placeholder::QueueId},
    {"filename", Placeholder::Filename},  // remove_infected only
}};

// The note put in place of a removed infected part when the rule gives none.
constexpr std::string_view default_removal_note =
    "The attachment {filename} was removed from this message by the mail gateway: it contained {virus_name}.";

constexpr std::array<std::string_view, 5> rule_keys{"name", "when", "then", "for", "enabled"};
constexpr std::array<std::string_view, 6> list_choices{"allow",        "block",        "global-allow",
                                                       "global-block", "user-allow", "user-block"};
constexpr std::array<std::string_view, 4> direction_choices{"inbound", "outbound", "internal", "transit"};

template <class Range, class Proj>
std::string closest(std::string_view unknown, const Range& candidates, Proj proj) {
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const auto& c : candidates) {
        std::string_view name = proj(c);
        auto d = config::edit_distance(unknown, name);
        if (d < best_distance) {
            best_distance = d;
            best = std::string(name);
        }
    }
    std::size_t limit = std::max<std::size_t>(2, unknown.size() / 4);
    return best_distance <= limit ? best : std::string{};
}

std::string did_you_mean(const std::string& hint, std::string_view prefix = "", std::string_view suffix = "") {
    return hint.empty() ? std::string{} : fmt::format(" (did you mean \"{}{}{}\"?)", prefix, hint, suffix);
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        default: return "a date/time";
    }
}

// A value as it would be written in TOML, for traces.
std::string render(const toml::node& node) {
    if (auto s = node.as_string()) {
        std::string out = "\"";
        for (char c : s->get()) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out + "\"";
    }
    if (auto i = node.as_integer()) return std::to_string(i->get());
    if (auto f = node.as_floating_point()) return fmt::format("{}", f->get());
    if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
    if (auto a = node.as_array()) {
        std::string out = "[";
        for (const auto& e : *a) out += (out.size() > 1 ? ", " : "") + render(e);
        return out + "]";
    }
    if (auto t = node.as_table()) {
        std::string out = "{";
        for (auto&& [k, v] : *t) out += fmt::format("{}{} = {}", out.size() > 1 ? ", " : " ", k.str(), render(v));
        return out + " }";
    }
    return "?";
}

// Table entries in the order they are written (toml++ iterates in key order).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        auto pa = a.first->source().begin, pb = b.first->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    return out;
}

bool valid_header_name(std::string_view n) {
    if (n.empty() || n.size() > 200) return false;
    return std::all_of(n.begin(), n.end(), [](unsigned char c) { return c > 32 && c < 127 && c != ':'; });
}

// ---------------------------------------------------------------------------------------------
// The compiler

class Compiler {
public:
    Compiler(std::string file) : file_(std::move(file)) { out_.file = file_; }

    Result<Policy> run(std::string_view text);

private:
    struct Problem {
        std::uint32_t line, column;
        std::string text;
    };

    void error(const toml::source_position& at, std::string_view reason) { add(errors_, at, reason, false); }
    void warning(const toml::source_position& at, std::string_view reason) { add(warnings_, at, reason, true); }
    void add(std::vector<Problem>& to, const toml::source_position& at, std::string_view reason, bool warn) {
        std::string where = context_.empty() ? "" : context_ + ": ";
        to.push_back({at.line, at.column,
                      fmt::format("{}:{}:{}: {}{}{}", file_, at.line, at.column, where, warn ? "warning: " : "", reason)});
    }

    void compile_groups(const toml::node& node);
    void compile_rule(const toml::node& node, std::size_t index);
    bool compile_when(const toml::table& table, Condition& into, bool& per_recipient);
    bool compile_condition(std::string_view key, const toml::key& key_node, const toml::node& value, Condition& parent,
                           bool& per_recipient);
    std::optional<std::vector<std::pair<std::string, toml::source_position>>> strings_of(std::string_view key,
                                                                                         const toml::node& value);
    std::optional<Action> compile_action(const toml::node& node);
    std::optional<TextTemplate> compile_template(std::string_view text, const toml::source_position& at,
                                                 std::string_view what);
    bool compile_reply(std::string_view arg, char klass, Action& action, const toml::source_position& at);
    std::optional<std::size_t> group_index(std::string_view name, const toml::source_position& at);

    std::string file_;
    std::string context_;  // "rule \"NAME\"", "group \"NAME\"" or ""
    std::vector<Problem> errors_, warnings_;
    CompiledPolicy out_;
    std::vector<std::pair<std::string, std::uint32_t>> seen_names_;
};

std::optional<std::vector<std::pair<std::string, toml::source_position>>> Compiler::strings_of(
    std::string_view key, const toml::node& value) {
    std::vector<std::pair<std::string, toml::source_position>> out;
    if (auto s = value.as_string()) {
        out.emplace_back(s->get(), value.source().begin);
        return out;
    }
    if (auto a = value.as_array()) {
        if (a->empty()) {
            error(value.source().begin, fmt::format("{}: an empty list matches nothing", key));
            return std::nullopt;
        }
        for (const auto& e : *a) {
            auto s = e.as_string();
            if (!s) {
                error(e.source().begin, fmt::format("{}: expected a string, got {}", key, type_name(e)));
                return std::nullopt;
            }
            out.emplace_back(s->get(), e.source().begin);
        }
        return out;
    }
    error(value.source().begin, fmt::format("{}: expected a string or an array of strings, got {}", key, type_name(value)));
    return std::nullopt;
}

std::optional<std::size_t> Compiler::group_index(std::string_view name, const toml::source_position& at) {
    for (std::size_t i = 0; i < out_.groups.size(); ++i)
        if (out_.groups[i].name == name) return i;
    auto hint = closest(name, out_.groups, [](const Group& g) -> std::string_view { return g.name; });
    error(at, fmt::format("unknown group \"{}\"{}", name,
                          hint.empty() ? (out_.groups.empty() ? " (there is no [groups] table)" : "")
                                       : did_you_mean(hint)));
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size(const toml::node& node) {
    if (auto i = node.as_integer()) {
        if (i->get() < 0) return std::nullopt;
        return static_cast<std::uint64_t>(i->get());
    }
    auto s = node.as_string();
    if (!s) return std::nullopt;
    std::string_view t = s->get();
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
        if (n > (UINT64_MAX / 10) - 10) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(t[i] - '0');
    }
    if (i == 0) return std::nullopt;
    std::string unit = to_lower(t.substr(i));
    if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    std::uint64_t mult = 1;
    if (unit == "" || unit == "b") mult = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024;
    else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024 * 1024;
    else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024ull * 1024 * 1024;
    else return std::nullopt;
    if (n > UINT64_MAX / mult) return std::nullopt;
    return n * mult;
}

bool Compiler::compile_condition(std::string_view key, const toml::key& key_node, const toml::node& value,
                                 Condition& parent, bool& per_recipient) {
    const CondSpec* spec = nullptr;
    for (const auto& s : cond_specs)
        if (s.name == key) spec = &s;
    auto at = key_node.source().begin;
    if (!spec) {
        if (key == "for") {
            error(at, "\"for\" belongs to the rule, not inside when: write for = \"...\" on a line of its own");
            return false;
        }
        if (std::find(rule_keys.begin(), rule_keys.end(), key) != rule_keys.end()) {
            error(at, fmt::format("\"{}\" belongs to the rule, not inside when", key));
            return false;
        }
        auto hint = closest(key, cond_specs, [](const CondSpec& c) { return c.name; });
        error(at, fmt::format("unknown condition \"{}\"{}", key, did_you_mean(hint)));
        return false;
    }

    Condition c;
    c.kind = spec->kind;
    c.key = std::string(key);
    c.shown = render(value);
    c.line = at.line;
    c.column = at.column;
    if (spec->per_recipient) per_recipient = true;
    auto vat = value.source().begin;

    auto want_bool = [&]() -> bool {
        auto b = value.as_boolean();
        if (!b) {
            error(vat, fmt::format("{}: expected true or false, got {}", key, type_name(value)));
            return false;
        }
        c.flag = b->get();
        return true;
    };

    switch (spec->type) {
        case ValueType::Bool:
            if (!want_bool()) return false;
            break;
        case ValueType::Number: {
            if (auto i = value.as_integer()) c.number = static_cast<double>(i->get());
            else if (auto f = value.as_floating_point(); f && std::isfinite(f->get())) c.number = f->get();
            else {
                error(vat, fmt::format("{}: expected a number, got {}", key, type_name(value)));
                return false;
            }
            break;
        }
        case ValueType::Size: {
            auto size = parse_size(value);
            if (!size) {
                error(vat, fmt::format("{}: expected a size in bytes, or a text like \"10M\" (K, M, G: 1024-based), got {}",
                                       key, render(value)));
                return false;
            }
            c.size = *size;
            break;
        }
        case ValueType::Choice: {
            auto s = value.as_string();
            std::string_view v = s ? std::string_view(s->get()) : std::string_view{};
            if (c.kind == CondKind::Direction) {
                auto it = std::find(direction_choices.begin(), direction_choices.end(), v);
                if (!s || it == direction_choices.end()) {
                    auto hint = s ? closest(v, direction_choices, [](auto x) { return x; }) : std::string{};
                    error(vat, fmt::format("direction: expected one of \"inbound\", \"outbound\", \"internal\", \"transit\", got {}{}",
                                           render(value), did_you_mean(hint)));
                    return false;
                }
                c.direction = static_cast<Direction>(it - direction_choices.begin());
                out_.uses_internal_domains = true;
            } else {
                auto it = std::find(list_choices.begin(), list_choices.end(), v);
                if (!s || it == list_choices.end()) {
                    auto hint = s ? closest(v, list_choices, [](auto x) { return x; }) : std::string{};
                    error(vat, fmt::format("{}: expected \"allow\" or \"block\" (global and per-user lists), "
                                           "\"global-allow\", \"global-block\", \"user-allow\" or \"user-block\", got {}{}",
                                           key, render(value), did_you_mean(hint)));
                    return false;
                }
                auto idx = it - list_choices.begin();
                c.list = idx % 2 == 0 ? ListKind::Allow : ListKind::Block;
                c.scope = idx < 2 ? ListScope::Both : idx < 4 ? ListScope::Global : ListScope::Personal;
                if (c.scope != ListScope::Global) per_recipient = true;
            }
            break;
        }
        case ValueType::HeaderTable: {
            auto t = value.as_table();
            if (!t || t->empty()) {
                error(vat, fmt::format("header: expected a table of header name = regular expression, like "
                                       "header = {{ Subject = '(?i)invoice' }}, got {}",
                                       render(value)));
                return false;
            }
            bool ok = true;
            for (auto [hk, hv] : in_file_order(*t)) {
                Condition h;
                h.kind = CondKind::Header;
                h.key = "header";
                h.header_name = std::string(hk->str());
                h.line = hk->source().begin.line;
                h.column = hk->source().begin.column;
                h.shown = fmt::format("{} =~ {}", h.header_name, render(*hv));
                if (!valid_header_name(h.header_name)) {
                    error(hk->source().begin, fmt::format("header: \"{}\" is not a header name", h.header_name));
                    ok = false;
                    continue;
                }
                auto patterns = strings_of(fmt::format("header {}", h.header_name), *hv);
                if (!patterns) { ok = false; continue; }
                std::string combined;
                bool bad = false;
                for (const auto& [p, pat] : *patterns) {
                    auto r = Regex::compile(p);
                    if (!r) {
                        error(pat, fmt::format("header {}: bad regular expression \"{}\": {}", h.header_name, p, r.error().message));
                        bad = true;
                    }
                    combined += (combined.empty() ? "" : "|") + fmt::format("(?:{})", p);
                }
                if (bad) { ok = false; continue; }
                h.regex = patterns->size() == 1 ? *Regex::compile(patterns->front().first) : *Regex::compile(combined);
                parent.children.push_back(std::move(h));
            }
            return ok;
        }
        case ValueType::SubTable: {
            auto t = value.as_table();
            if (!t || t->empty()) {
                error(vat, fmt::format("not: expected a table of conditions, like not = {{ authenticated = true }}, got {}",
                                       render(value)));
                return false;
            }
            Condition all;
            all.kind = CondKind::All;
            if (!compile_when(*t, all, per_recipient)) return false;
            c.children.push_back(std::move(all));
            break;
        }
        case ValueType::SubTables: {
            auto a = value.as_array();
            if (!a || a->size() < 1) {
                error(vat, fmt::format("any: expected an array of condition tables, like any = [{{ sender = \"a@x\" }}, "
                                       "{{ client_ip = \"192.0.2.0/24\" }}], got {}",
                                       render(value)));
                return false;
            }
            bool ok = true;
            for (const auto& e : *a) {
                auto t = e.as_table();
                if (!t || t->empty()) {
                    error(e.source().begin, fmt::format("any: expected a table of conditions, got {}", render(e)));
                    ok = false;
                    continue;
                }
                Condition all;
                all.kind = CondKind::All;
                all.shown = render(e);
                if (compile_when(*t, all, per_recipient)) c.children.push_back(std::move(all));
                else ok = false;
            }
            if (!ok) return false;
            break;
        }
        case ValueType::Strings: {
            auto items = strings_of(key, value);
            if (!items) return false;
            bool ok = true;
            std::vector<std::string> regexes;
            for (const auto& [text, pos] : *items) {
                switch (c.kind) {
                    case CondKind::Sender:
                    case CondKind::Recipient: {
                        auto p = AddressPattern::parse(text);
                        if (!p) { error(pos, fmt::format("{}: {}", key, p.error().message)); ok = false; }
                        else c.addresses.push_back(std::move(*p));
                        break;
                    }
                    case CondKind::ClientHostname: {
                        auto p = HostnamePattern::parse(text);
                        if (!p) { error(pos, fmt::format("{}: {}", key, p.error().message)); ok = false; }
                        else c.hostnames.push_back(std::move(*p));
                        break;
                    }
                    case CondKind::ClientIp: {
                        auto n = Cidr::parse(text);
                        if (!n) { error(pos, fmt::format("{}: {}", key, n.error().message)); ok = false; }
                        else c.networks.push_back(std::move(*n));
                        break;
                    }
                    case CondKind::SenderGroup:
                    case CondKind::RecipientGroup: {
                        auto g = group_index(text, pos);
                        if (!g) ok = false;
                        else c.groups.push_back(*g);
                        break;
                    }
                    case CondKind::Body: {
                        auto r = Regex::compile(text);
                        if (!r) {
                            error(pos, fmt::format("body: bad regular expression \"{}\": {}", text, r.error().message));
                            ok = false;
                        }
                        regexes.push_back(text);
                        break;
                    }
                    case CondKind::HeaderExists:
                        if (text.empty() || text.find_first_of(": \t") != std::string::npos) {
                            error(pos, fmt::format("header_exists: \"{}\" is not a header name", text));
                            ok = false;
                        }
                        c.words.push_back(to_lower(text));
                        break;
                    default:
                        if (text.empty()) {
                            error(pos, fmt::format("{}: empty pattern", key));
                            ok = false;
                        }
                        c.words.push_back(to_lower(text));
                }
            }
            if (!ok) return false;
            if (c.kind == CondKind::Body) {
                std::string combined;
                for (const auto& r : regexes) combined += (combined.empty() ? "" : "|") + fmt::format("(?:{})", r);
                c.regex = regexes.size() == 1 ? *Regex::compile(regexes.front()) : *Regex::compile(combined);
            }
            break;
        }
    }
    parent.children.push_back(std::move(c));
    return true;
}

bool Compiler::compile_when(const toml::table& table, Condition& into, bool& per_recipient) {
    bool ok = true;
    for (auto [k, v] : in_file_order(table))
        if (!compile_condition(k->str(), *k, *v, into, per_recipient)) ok = false;
    return ok;
}

std::optional<TextTemplate> Compiler::compile_template(std::string_view text, const toml::source_position& at,
                                                       std::string_view what) {
    TextTemplate t;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) t.segments.push_back({Placeholder::Literal, std::move(literal)});
        literal.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') { literal += '{'; ++i; continue; }
        if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') { literal += '}'; ++i; continue; }
        if (c == '}') {
            error(at, fmt::format("{}: a lone \"}}\" (write \"}}}}\" for a brace)", what));
            return std::nullopt;
        }
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
            error(at, fmt::format("{}: control characters (line breaks) are not allowed in the text", what));
            return std::nullopt;
        }
        if (c != '{') { literal += c; continue; }
        auto close = text.find('}', i);
        if (close == std::string_view::npos) {
            error(at, fmt::format("{}: \"{{\" without a closing \"}}\" (write \"{{{{\" for a brace)", what));
            return std::nullopt;
        }
        auto name = text.substr(i + 1, close - i - 1);
        auto it = std::find_if(placeholders.begin(), placeholders.end(), [&](const auto& p) { return p.first == name; });
        if (it == placeholders.end()) {
            auto hint = closest(name, placeholders, [](const auto& p) { return p.first; });
            error(at, fmt::format("{}: unknown placeholder \"{{{}}}\"{}", what, name, did_you_mean(hint, "{", "}")));
            return std::nullopt;
        }
        if (it->second == Placeholder::Filename && what != "remove_infected") {
            error(at, fmt::format("{}: \"{{filename}}\" is only known in remove_infected's note", what));
            return std::nullopt;
        }
        flush();
        t.segments.push_back({it->second, {}});
        i = close;
    }
    flush();
    return t;
}

bool is_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool Compiler::compile_reply(std::string_view arg, char klass, Action& a, const toml::source_position& at) {
    std::string_view rest = arg;
    auto next_token = [&]() {
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        auto sp = rest.find(' ');
        return rest.substr(0, sp);
    };
    auto consume = [&](std::string_view tok) { rest.remove_prefix(std::min(rest.size(), tok.size())); };
    std::string_view verb = klass == '5' ? "reject" : "tempfail";

    auto tok = next_token();
    if (tok.size() == 3 && is_digits(tok)) {
        if (tok[0] != klass || tok[1] > '5') {
            error(at, fmt::format("{} needs a {}xx reply code, got {}{}", verb, klass, tok,
                                  klass == '5' ? " (use tempfail for 4xx)" : " (use reject for 5xx)"));
            return false;
        }
        a.code = std::string(tok);
        consume(tok);
        tok = next_token();
    }
    // Enhanced status code (RFC 3463): class.subject.detail, class matching the reply code.
    auto dot1 = tok.find('.');
    auto dot2 = dot1 == std::string_view::npos ? dot1 : tok.find('.', dot1 + 1);
    if (dot2 != std::string_view::npos && is_digits(tok.substr(0, dot1)) &&
        is_digits(tok.substr(dot1 + 1, dot2 - dot1 - 1)) && is_digits(tok.substr(dot2 + 1))) {
        if (tok.substr(0, dot1) != std::string_view(&klass, 1) || dot2 - dot1 - 1 > 3 || tok.size() - dot2 - 1 > 3) {
            error(at, fmt::format("{}: enhanced status code {} does not fit a {}xx reply (expected {}.x.y)", verb, tok,
                                  klass, klass));
            return false;
        }
        a.xcode = std::string(tok);
        consume(tok);
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (a.code.empty()) {
        a.code = klass == '5' ? "550" : "451";
        if (a.xcode.empty()) a.xcode = klass == '5' ? "5.7.1" : "4.7.1";
    }
    std::string text = rest.empty() ? std::string(klass == '5' ? "Message rejected by policy" : "Try again later")
                                    : std::string(rest);
    for (unsigned char ch : text)
        if (ch < 0x20 || ch > 0x7e) {
            error(at, fmt::format("{}: the reply text must be printable ASCII (SMTP replies are 7-bit)", verb));
            return false;
        }
    auto t = compile_template(text, at, verb);
    if (!t) return false;
    a.text = std::move(*t);
    return true;
}

bool plausible_address(std::string_view a) {
    auto at = a.rfind('@');
    return at != std::string_view::npos && at > 0 && at + 1 < a.size() &&
           std::none_of(a.begin(), a.end(), [](unsigned char c) { return c <= ' ' || c == '<' || c == '>' || c == ','; });
}

std::vector<std::string_view> split_addresses(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto item = s.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        out.push_back(item);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<Action> Compiler::compile_action(const toml::node& node) {
    auto at = node.source().begin;
    auto s = node.as_string();
    if (!s) {
        error(at, fmt::format("then: expected an action text like \"accept\" or \"tag_subject:[SPAM]\", got {}",
                              type_name(node)));
        return std::nullopt;
    }
    std::string_view written = s->get();
    auto colon = written.find(':');
    std::string_view name = written.substr(0, colon);
    bool has_arg = colon != std::string_view::npos;
    std::string_view arg = has_arg ? written.substr(colon + 1) : std::string_view{};

    const ActSpec* spec = nullptr;
    for (const auto& a : act_specs)
        if (a.name == name) spec = &a;
    if (!spec) {
        auto first_word = name.substr(0, name.find(' '));
        for (const auto& a : act_specs)
            if (a.name == first_word && first_word.size() < name.size()) {
                error(at, fmt::format("action \"{}\": put a \":\" after \"{}\", as in \"{}:{}\"", written, first_word,
                                      first_word, name.substr(first_word.size() + 1)));
                return std::nullopt;
            }
        auto hint = closest(name, act_specs, [](const ActSpec& a) { return a.name; });
        error(at, fmt::format("unknown action \"{}\"{}", name, did_you_mean(hint)));
        return std::nullopt;
    }
    Action a;
    a.kind = spec->kind;
    a.written = std::string(written);
    a.line = at.line;
    a.column = at.column;
    auto need_arg = [&](std::string_view example) {
        if (arg.empty()) {
            error(at, fmt::format("{} needs an argument, as in \"{}\"", name, example));
            return false;
        }
        return true;
    };

    switch (a.kind) {
        case ActKind::Accept:
        case ActKind::Discard:
            if (has_arg) {
                error(at, fmt::format("{} takes no argument", name));
                return std::nullopt;
            }
            break;
        case ActKind::Quarantine:
        case ActKind::QuarantineCopy: {
            auto t = compile_template(arg.empty() ? "{rule}" : arg, at, name);
            if (!t) return std::nullopt;
            a.text = std::move(*t);
            break;
        }
        case ActKind::Reject:
        case ActKind::Tempfail:
            if (!compile_reply(arg, a.kind == ActKind::Reject ? '5' : '4', a, at)) return std::nullopt;
            break;
        case ActKind::Redirect:
        case ActKind::CopyTo:
            if (!need_arg(fmt::format("{}:archive@example.com", name))) return std::nullopt;
            for (auto addr : split_addresses(arg)) {
                if (!plausible_address(addr)) {
                    error(at, fmt::format("{}: \"{}\" is not an address", name, addr));
                    return std::nullopt;
                }
                a.addresses.emplace_back(addr);
            }
            break;
        case ActKind::AddHeader:
        case ActKind::ReplaceHeader: {
            if (!need_arg(fmt::format("{}:X-PMX-Spam: yes", name))) return std::nullopt;
            auto c2 = arg.find(':');
            auto hname = arg.substr(0, c2);
            if (c2 == std::string_view::npos || !valid_header_name(hname)) {
                error(at, fmt::format("{}: expected \"Name: value\" with a header name of printable characters, got \"{}\"",
                                      name, arg));
                return std::nullopt;
            }
            auto value = arg.substr(c2 + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            a.header_name = std::string(hname);
            auto t = compile_template(value, at, name);
            if (!t) return std::nullopt;
            a.text = std::move(*t);
            break;
        }
        case ActKind::RemoveHeader:
            if (!need_arg("remove_header:X-Spam-Flag")) return std::nullopt;
            if (!valid_header_name(arg)) {
                error(at, fmt::format("remove_header: \"{}\" is not a header name", arg));
                return std::nullopt;
            }
            a.header_name = std::string(arg);
            break;
        case ActKind::TagSubject: {
            if (!need_arg("tag_subject:[SPAM]")) return std::nullopt;
            auto t = compile_template(arg, at, name);
            if (!t) return std::nullopt;
            a.text = std::move(*t);
            break;
        }
        case ActKind::Notify: {
            if (!need_arg("notify:postmaster@example.com virus-alert")) return std::nullopt;
            auto sp = arg.find(' ');
            auto who = arg.substr(0, sp);
            auto tmpl = sp == std::string_view::npos ? std::string_view{} : arg.substr(sp + 1);
            while (!tmpl.empty() && tmpl.front() == ' ') tmpl.remove_prefix(1);
            if (who == "recipient" || who == "recipients") a.notify = NotifyTarget::Recipient;
            else if (who == "sender") a.notify = NotifyTarget::Sender;
            else if (who == "admin") a.notify = NotifyTarget::Admin;  // av.notify_admin
            else if (plausible_address(who)) a.addresses.emplace_back(who);
            else {
                auto hint = closest(who, std::array<std::string_view, 3>{"sender", "recipient", "admin"},
                                    [](auto x) { return x; });
                error(at, fmt::format("notify: \"{}\" is not an address, \"sender\", \"recipient\" or \"admin\"{}", who,
                                      did_you_mean(hint)));
                return std::nullopt;
            }
            if (tmpl.find(' ') != std::string_view::npos) {
                error(at, fmt::format("notify: the template name \"{}\" has a space", tmpl));
                return std::nullopt;
            }
            if (!tmpl.empty() && !std::all_of(tmpl.begin(), tmpl.end(), [](char ch) {
                    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                           ch == '-' || ch == '_';
                })) {
                // It names a file (notify/TEMPLATE.txt): no paths.
                error(at, fmt::format("notify: the template name \"{}\" may hold only letters, digits, \"-\" and \"_\"",
                                      tmpl));
                return std::nullopt;
            }
            a.template_name = tmpl.empty() ? "policy" : std::string(tmpl);
            break;
        }
        case ActKind::RemoveInfected: {
            auto t = compile_template(has_arg && !arg.empty() ? arg : default_removal_note, at, name);
            if (!t) return std::nullopt;
            a.text = std::move(*t);
            break;
        }
    }
    return a;
}

void Compiler::compile_groups(const toml::node& node) {
    context_.clear();
    auto t = node.as_table();
    if (!t) {
        error(node.source().begin, fmt::format("groups: expected a table like [groups] with name = [\"a@example.com\", "
                                               "\"@example.org\"], got {}",
                                               type_name(node)));
        return;
    }
    for (auto [k, v] : in_file_order(*t)) {
        Group g;
        g.name = std::string(k->str());
        context_ = fmt::format("group \"{}\"", g.name);
        auto items = strings_of("members", *v);
        if (items) {
            for (const auto& [text, pos] : *items) {
                auto p = AddressPattern::parse(text);
                if (!p) error(pos, p.error().message);
                else g.members.push_back(std::move(*p));
            }
        }
        out_.groups.push_back(std::move(g));
    }
    context_.clear();
}

void Compiler::compile_rule(const toml::node& node, std::size_t index) {
    auto at = node.source().begin;
    context_ = fmt::format("rule #{}", index + 1);
    auto t = node.as_table();
    if (!t) {
        error(at, "expected a [[rule]] table");
        return;
    }
    Rule r;
    r.line = at.line;
    r.column = at.column;
    if (auto n = t->get("name")) {
        if (auto s = n->as_string(); s && !s->get().empty()) {
            r.name = s->get();
            context_ = fmt::format("rule \"{}\"", r.name);
            for (const auto& [seen, line] : seen_names_)
                if (seen == r.name) error(n->source().begin, fmt::format("a rule of this name is already at line {}", line));
            seen_names_.emplace_back(r.name, at.line);
        } else {
            error(n->source().begin, "name: expected a non-empty string");
        }
    } else {
        error(at, "the rule has no name (name = \"...\"): traces and logs need one");
    }

    for (auto [k, v] : in_file_order(*t)) {
        auto key = k->str();
        if (std::find(rule_keys.begin(), rule_keys.end(), key) != rule_keys.end()) continue;
        bool is_condition = std::any_of(cond_specs.begin(), cond_specs.end(), [&](const CondSpec& c) { return c.name == key; });
        if (is_condition) {
            error(k->source().begin, fmt::format("\"{}\" is a condition: put it inside when = {{ ... }}", key));
            continue;
        }
        auto hint = closest(key, rule_keys, [](auto x) { return x; });
        error(k->source().begin, fmt::format("unknown key \"{}\"{}", key, did_you_mean(hint)));
    }

    bool enabled = true;
    if (auto e = t->get("enabled")) {
        if (auto b = e->as_boolean()) enabled = b->get();
        else error(e->source().begin, fmt::format("enabled: expected true or false, got {}", type_name(*e)));
    }

    bool depends_on_recipient = false;
    std::string first_recipient_condition;
    r.when.kind = CondKind::All;
    if (auto w = t->get("when")) {
        if (auto wt = w->as_table()) {
            if (wt->empty()) r.unconditional = true;
            compile_when(*wt, r.when, depends_on_recipient);
        } else {
            error(w->source().begin, fmt::format("when: expected a table of conditions, like when = {{ "
                                                 "spam_score_at_least = 5 }}, got {}",
                                                 type_name(*w)));
        }
    } else {
        r.unconditional = true;
    }

    r.per_recipient = depends_on_recipient;
    if (auto f = t->get("for")) {
        auto s = f->as_string();
        std::string_view v = s ? std::string_view(s->get()) : std::string_view{};
        if (v == "message") {
            if (depends_on_recipient)
                error(f->source().begin, "for = \"message\", but a condition depends on the recipient (recipient, "
                                         "recipient_group, internal_recipient, direction, or a per-user list): "
                                         "use for = \"each-recipient\"");
            r.per_recipient = false;
        } else if (v == "each-recipient") {
            r.per_recipient = true;
        } else {
            auto hint = s ? closest(v, std::array<std::string_view, 2>{"message", "each-recipient"}, [](auto x) { return x; })
                          : std::string{};
            error(f->source().begin, fmt::format("for: expected \"message\" or \"each-recipient\", got {}{}", render(*f),
                                                 did_you_mean(hint)));
        }
    }

    if (auto th = t->get("then")) {
        std::vector<const toml::node*> items;
        if (auto a = th->as_array()) {
            for (const auto& e : *a) items.push_back(&e);
        } else {
            items.push_back(th);
        }
        if (items.empty()) error(th->source().begin, "then: the rule has no actions");
        for (const auto* item : items) {
            auto act = compile_action(*item);
            if (!act) continue;
            if (is_final(act->kind)) {
                if (r.final_action >= 0) {
                    const auto& first = r.actions[static_cast<std::size_t>(r.final_action)];
                    error(item->source().begin,
                          fmt::format("\"{}\" and \"{}\" both end the run; a rule has one final action (use "
                                      "quarantine_copy to keep a copy and end with another verdict)",
                                      first.written, act->written));
                    continue;
                }
                r.final_action = static_cast<int>(r.actions.size());
            }
            r.actions.push_back(std::move(*act));
        }
    } else {
        error(at, "the rule has no actions (then = [...])");
    }

    if (enabled) out_.rules.push_back(std::move(r));
    else ++out_.disabled;
    context_.clear();
}

Result<Policy> Compiler::run(std::string_view text) {
    toml::table doc;
    try {
        doc = toml::parse(text, std::string_view(file_));
    } catch (const toml::parse_error& e) {
        return Error{fmt::format("{}:{}:{}: syntax error: {}", file_, e.source().begin.line, e.source().begin.column,
                                 e.description())};
    }

    // Groups first: rules refer to them wherever they are written.
    if (auto g = doc.get("groups")) compile_groups(*g);

    for (auto [k, v] : in_file_order(doc)) {
        auto key = k->str();
        if (key == "groups") continue;
        if (key == "rule") {
            auto arr = v->as_array();
            if (!arr) {
                error(k->source().begin, "write each rule as [[rule]] (an array of tables), not [rule]");
                continue;
            }
            for (std::size_t i = 0; i < arr->size(); ++i) compile_rule((*arr)[i], i);
            continue;
        }
        auto hint = closest(key, std::array<std::string_view, 2>{"rule", "groups"}, [](auto x) { return x; });
        error(k->source().begin, fmt::format("unknown key \"{}\" (the file holds [[rule]] tables and one [groups] table){}",
                                             key, did_you_mean(hint)));
    }

    for (const auto& r : out_.rules)
        for (const auto& a : r.actions)
            if (a.kind == ActKind::AddHeader || a.kind == ActKind::ReplaceHeader || a.kind == ActKind::RemoveHeader)
                ++out_.header_actions;

    // A rule after one that decides every message, unconditionally, never runs.
    for (std::size_t i = 0; i < out_.rules.size(); ++i) {
        const auto& r = out_.rules[i];
        if (!r.unconditional || r.final_action < 0) continue;
        for (std::size_t j = i + 1; j < out_.rules.size(); ++j) {
            context_ = fmt::format("rule \"{}\"", out_.rules[j].name);
            warning({out_.rules[j].line, out_.rules[j].column},
                    fmt::format("never runs: rule \"{}\" (line {}) has no conditions and ends the run with \"{}\"",
                                r.name, r.line, r.actions[static_cast<std::size_t>(r.final_action)].written));
        }
        break;
    }
    context_.clear();

    auto by_position = [](const Problem& a, const Problem& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    };
    std::stable_sort(errors_.begin(), errors_.end(), by_position);
    std::stable_sort(warnings_.begin(), warnings_.end(), by_position);
    if (!errors_.empty()) {
        std::string joined;
        for (const auto& e : errors_) joined += (joined.empty() ? "" : "\n") + e.text;
        return Error{joined};
    }
    for (auto& w : warnings_) out_.warnings.push_back(std::move(w.text));
    return Policy{std::make_shared<const CompiledPolicy>(std::move(out_))};
}

}  // namespace

const std::string& Policy::file() const { return impl_->file; }
std::size_t Policy::rule_count() const { return impl_->rules.size(); }
std::size_t Policy::disabled_count() const { return impl_->disabled; }
const std::vector<std::string>& Policy::warnings() const { return impl_->warnings; }
bool Policy::uses_internal_domains() const { return impl_->uses_internal_domains; }
std::vector<std::string> Policy::rule_names() const {
    std::vector<std::string> out;
    for (const auto& r : impl_->rules) out.push_back(r.name);
    return out;
}

Result<Policy> parse_policy(std::string_view text, std::string_view filename) {
    Compiler c{std::string(filename)};
    return c.run(text);
}

Result<Policy> load_policy_file(const std::filesystem::path& file) {
    auto text = read_file(file);
    if (!text) return text.error();
    return parse_policy(*text, file.string());
}

std::filesystem::path policy_path(const config::Layout& layout) {
    auto admin = layout.config_dir / "policy.toml";
    std::error_code ec;
    if (std::filesystem::exists(admin, ec)) return admin;
    return layout.vendor_dir / "policy.toml";
}

Result<Policy> load_policy(const config::Layout& layout) { return load_policy_file(policy_path(layout)); }

Result<Site> make_site(const std::vector<std::string>& networks, const std::vector<std::string>& domains) {
    Site site;
    std::string errors;
    for (const auto& n : networks) {
        auto c = Cidr::parse(n);
        if (c) site.internal_networks.push_back(std::move(*c));
        else errors += (errors.empty() ? "" : "\n") + fmt::format("general.internal_networks: {}", c.error().message);
    }
    for (const auto& d : domains) {
        auto p = DomainPattern::parse(d);
        if (p) site.internal_domains.push_back(std::move(*p));
        else errors += (errors.empty() ? "" : "\n") + fmt::format("general.internal_domains: {}", p.error().message);
    }
    if (!errors.empty()) return Error{errors};
    return site;
}

Result<Site> site_from_config(const config::Snapshot& snapshot) {
    return make_site(snapshot.strings("general.internal_networks"), snapshot.strings("general.internal_domains"));
}

}  // namespace pmx::policy
