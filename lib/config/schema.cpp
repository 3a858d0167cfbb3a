#include "config/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace pmx::config {

namespace {

constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// Keep sorted by section, then key: `pmx config show` prints in this order.
const std::vector<KeySpec>& table() {
    static const std::vector<KeySpec> keys = {
        {.name = "general.log_level", .type = Type::Enum, .default_value = std::string("info"),
         .choices = {"debug", "info", "notice", "warning", "error"}, .services = {"*"},
         .doc = "Least severe journal messages the daemons write"},
        {.name = "general.node_name", .type = Type::String, .default_value = std::string(""),
         .services = {"*"},
         .doc = "Name of this gateway node in logs and status; empty means the host name"},

        {.name = "general.internal_networks", .type = Type::StringList,
         .default_value = StringList{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                     "fc00::/7"},
         .services = {"milter", "ipblockd"},
         .doc = "Client networks (CIDR) whose mail is internal (policy direction, never IP-blocked)"},
        {.name = "general.internal_domains", .type = Type::StringList, .default_value = StringList{},
         .services = {"milter"},
         .doc = "Mail domains of this site: recipients there are internal (policy direction)"},

        {.name = "database.path", .type = Type::String, .default_value = std::string("pmx.db"),
         .services = {"milter"}, .apply = Apply::Restart,
         .doc = "SQLite database (WAL mode) for quarantine index, message log and lists; relative to /var/lib/pmx"},
        {.name = "quarantine.dir", .type = Type::String, .default_value = std::string("quarantine"),
         .services = {"milter"},
         .doc = "Directory holding quarantined messages, one file each; relative to /var/lib/pmx"},

        {.name = "milter.socket", .type = Type::String, .default_value = std::string("milter.sock"),
         .services = {"milter"}, .apply = Apply::Restart,
         .doc = "Milter socket: a path (relative paths are under /run/pmx) or inet:PORT@127.0.0.1"},
        {.name = "milter.on_internal_error", .type = Type::Enum, .default_value = std::string("tempfail"),
         .choices = {"tempfail", "accept", "reject"}, .services = {"milter"},
         .doc = "Verdict when the milter cannot judge a message (tempfail makes the sender retry)"},
        {.name = "milter.max_recipients", .type = Type::Integer, .default_value = std::int64_t{1000},
         .min = 1, .max = 100000, .services = {"milter"},
         .doc = "Most envelope recipients in one message; a message with more is tempfailed whole"},
        {.name = "milter.max_headers", .type = Type::Integer, .default_value = std::int64_t{1000},
         .min = 16, .max = 100000, .services = {"milter"},
         .doc = "Most header fields kept per message"},
        {.name = "milter.max_header_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 4 * KiB, .max = 64 * MiB, .services = {"milter"},
         .doc = "Most bytes of headers kept per message"},
        {.name = "milter.max_body_bytes", .type = Type::Integer, .default_value = std::int64_t{64 * MiB},
         .min = 64 * KiB, .max = 4 * GiB, .services = {"milter"},
         .doc = "Most body bytes scanned per message; large bodies spill to a temporary file"},

        {.name = "milter.spill_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 0, .max = 1 * GiB, .services = {"milter"},
         .doc = "Message bytes kept in memory; beyond this a message goes to an unlinked temporary file"},

        {.name = "ipblock.socket", .type = Type::String, .default_value = std::string("ipblock.sock"),
         .services = {"ipblockd"}, .apply = Apply::Restart,
         .doc = "Postfix policy delegation socket: a path (relative paths are under /run/pmx)"},
        {.name = "ipblock.on_failure", .type = Type::Enum, .default_value = std::string("pass"),
         .choices = {"pass", "tempfail"}, .services = {"ipblockd"},
         .doc = "Answer when a lookup cannot be made: pass (DUNNO) or tempfail (DEFER)"},
        {.name = "ipblock.reject_text", .type = Type::String,
         .default_value = std::string("5.7.1 Client address {ip} is blocked: {reason}"),
         .services = {"ipblockd"},
         .doc = "Text sent with REJECT; {ip} and {reason} are replaced"},

        {.name = "queue.socket", .type = Type::String, .default_value = std::string("queue.sock"),
         .services = {"queued"}, .apply = Apply::Restart,
         .doc = "Queue Runner submission socket: a path (relative paths are under /run/pmx)"},
        {.name = "queue.relay", .type = Type::String, .default_value = std::string("127.0.0.1:25"),
         .services = {"queued"},
         .doc = "SMTP relay (HOST:PORT) that receives released mail, digests and notifications"},
        {.name = "queue.max_parallel", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 256, .services = {"queued"},
         .doc = "Most deliveries in progress at once"},

        {.name = "av.socket", .type = Type::String, .default_value = std::string("av.sock"),
         .services = {"avd"}, .apply = Apply::Restart,
         .doc = "AntiVirus scan socket: a path (relative paths are under /run/pmx)"},
        {.name = "av.database_dir", .type = Type::String, .default_value = std::string("/var/lib/clamav"),
         .services = {"avd"},
         .doc = "ClamAV signature directory"},
        {.name = "av.max_scans", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 64, .services = {"avd"},
         .doc = "Most scans running at once; more wait in line"},
    };
    return keys;
}

}  // namespace

std::span<const KeySpec> all_keys() { return table(); }

const KeySpec* find_key(std::string_view name) {
    for (const auto& k : table())
        if (k.name == name) return &k;
    return nullptr;
}

bool key_affects(const KeySpec& spec, std::string_view service_id) {
    return std::any_of(spec.services.begin(), spec.services.end(),
                       [&](std::string_view s) { return s == "*" || s == service_id; });
}

std::string_view type_name(Type t) {
    switch (t) {
        case Type::Boolean: return "boolean";
        case Type::Integer: return "integer";
        case Type::String: return "string";
        case Type::Enum: return "string";
        case Type::StringList: return "array of strings";
    }
    return "?";
}

std::string to_plain(const Value& v) {
    if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (auto l = std::get_if<StringList>(&v)) {
        std::string out;
        for (const auto& item : *l) out += (out.empty() ? "" : ",") + item;
        return out;
    }
    return std::get<std::string>(v);
}

namespace {
std::string quote_toml(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out + "\"";
}
}  // namespace

std::string to_toml_literal(const Value& v) {
    if (auto s = std::get_if<std::string>(&v)) return quote_toml(*s);
    if (auto l = std::get_if<StringList>(&v)) {
        std::string out = "[";
        for (const auto& item : *l) out += (out.size() > 1 ? ", " : "") + quote_toml(item);
        return out + "]";
    }
    return to_plain(v);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (size_t i = 1; i <= n; ++i)
        for (size_t j = 1; j <= m; ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

std::string suggest_key(std::string_view unknown) {
    std::string best;
    size_t best_distance = SIZE_MAX;
    for (const auto& k : table()) {
        size_t dist = edit_distance(unknown, k.name);
        // Also compare the part after the section, so "milter.max_recipient" and
        // "max_recipients" (section forgotten) both find their key.
        auto dot = k.name.find('.');
        dist = std::min(dist, edit_distance(unknown, k.name.substr(dot + 1)) + 1);
        if (dist < best_distance) { best_distance = dist; best = k.name; }
    }
    size_t limit = std::max<size_t>(2, unknown.size() / 4);
    return best_distance <= limit ? best : std::string{};
}

std::string check_value(const KeySpec& spec, const Value& v) {
    switch (spec.type) {
        case Type::Boolean:
            if (!std::holds_alternative<bool>(v)) return "expected a boolean (true or false)";
            return {};
        case Type::Integer: {
            auto i = std::get_if<std::int64_t>(&v);
            if (!i) return "expected an integer";
            if (*i < spec.min || *i > spec.max)
                return fmt::format("{} is out of range (allowed: {} to {})", *i, spec.min, spec.max);
            return {};
        }
        case Type::String:
            if (!std::holds_alternative<std::string>(v)) return "expected a string";
            return {};
        case Type::StringList:
            if (!std::holds_alternative<StringList>(v)) return "expected an array of strings";
            return {};
        case Type::Enum: {
            auto s = std::get_if<std::string>(&v);
            std::string allowed;
            for (auto c : spec.choices) allowed += (allowed.empty() ? "" : ", ") + std::string(c);
            if (!s) return fmt::format("expected a string, one of: {}", allowed);
            if (std::find(spec.choices.begin(), spec.choices.end(), *s) == spec.choices.end())
                return fmt::format("\"{}\" is not allowed (allowed: {})", *s, allowed);
            return {};
        }
    }
    return {};
}

ParseResult parse_text_value(const KeySpec& spec, std::string_view text) {
    Value v;
    switch (spec.type) {
        case Type::Boolean:
            if (text == "true" || text == "yes" || text == "on" || text == "1") v = true;
            else if (text == "false" || text == "no" || text == "off" || text == "0") v = false;
            else return {false, {}, fmt::format("{}: \"{}\" is not a boolean (use true or false)", spec.name, text)};
            break;
        case Type::Integer: {
            std::int64_t i = 0;
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
            if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty())
                return {false, {}, fmt::format("{}: \"{}\" is not an integer", spec.name, text)};
            v = i;
            break;
        }
        case Type::String:
        case Type::Enum:
            v = std::string(text);
            break;
        case Type::StringList: {
            StringList items;
            for (size_t start = 0; start <= text.size();) {
                size_t comma = text.find(',', start);
                if (comma == std::string_view::npos) comma = text.size();
                auto item = text.substr(start, comma - start);
                while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
                while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
                if (!item.empty()) items.emplace_back(item);
                start = comma + 1;
            }
            v = std::move(items);
            break;
        }
    }
    if (auto err = check_value(spec, v); !err.empty())
        return {false, {}, fmt::format("{}: {}", spec.name, err)};
    return {true, std::move(v), {}};
}

}  // namespace pmx::config
