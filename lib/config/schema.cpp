#include "config/schema.hpp"

#include "config/keys.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace pmx::config {

namespace {

// Sections in this order, keys in file order: `pmx config show` prints them so.
const std::vector<KeySpec>& table() {
    static const std::vector<KeySpec> keys = [] {
        std::vector<KeySpec> all;
        add_general_keys(all);
        add_milter_keys(all);
        add_ipblock_keys(all);
        add_queue_keys(all);
        add_av_keys(all);
        add_spam_keys(all);
        add_bayes_keys(all);
        add_dnsbl_keys(all);
        add_jobs_keys(all);
        add_digest_keys(all);
        add_httpd_keys(all);
        return all;
    }();
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
