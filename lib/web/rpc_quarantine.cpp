// quarantine.search|show|release|delete: the quarantine through the web, scoped per recipient.
// An Admin sees everything. Anyone else (right quarantine) sees only messages with a recipient
// in their scope (filtered in the SQL), only those recipients, and may release only to them;
// ids outside the scope answer "not found" like ids that do not exist, so nothing is revealed.
// Releases go through lib/quarantine/release (pmx-queued), every action is in the audit log
// with the actor "web:NAME".
#include "web/rpc_quarantine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "mail/mime.hpp"
#include "quarantine/release.hpp"
#include "quarantine/remove.hpp"
#include "queue/submit.hpp"
#include "store/time_filter.hpp"
#include "util/text.hpp"
#include "web/rpc.hpp"
#include "web/rpc_params.hpp"

namespace pmx::web {

namespace {

constexpr std::size_t max_ids = 500;                       // per release or delete call
constexpr std::size_t max_filter_bytes = 1000;             // each search text
constexpr std::int64_t max_offset = 1000000;
constexpr std::size_t max_header_bytes = 64 * 1024;        // quarantine.show "headers"
constexpr std::size_t max_text_bytes = 64 * 1024;          // quarantine.show "text"
constexpr std::size_t max_parts = 200;                     // quarantine.show "parts"
constexpr std::uint64_t max_parse_bytes = 32ull << 20;     // parsed for show; the rest is not read

std::string timestamp(std::int64_t us) {
    if (us == 0) return "-";
    std::time_t t = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string actor(const Call& c) { return "web:" + c.who().name; }

RpcError no_such_message(std::int64_t id) { return not_found(fmt::format("No quarantined message with id {}", id)); }

bool sees(const Principal& who, std::string_view recipient) { return who.may(Right::Quarantine, recipient); }

// The message as this caller may see it: only the recipients in scope. nullopt: none is.
std::optional<store::QuarantinedMessage> scoped(const Principal& who, store::QuarantinedMessage m) {
    if (who.is_admin()) return m;
    store::QuarantinedMessage out = std::move(m);
    std::vector<std::string> recipients;
    std::vector<store::RecipientState> states;
    for (std::size_t i = 0; i < out.states.size(); ++i)
        if (sees(who, out.states[i].recipient)) {
            states.push_back(out.states[i]);
            recipients.push_back(out.states[i].recipient);
        }
    if (states.empty()) return std::nullopt;
    out.meta.recipients = std::move(recipients);
    out.states = std::move(states);
    return out;
}

// The message JSON for this caller; the stored file's path only for administrators.
Json message_for(const Principal& who, const store::QuarantinedMessage& m) {
    Json j = quarantined_message_json(m);
    if (!who.is_admin()) j.erase("file");
    return j;
}

struct Opened {
    store::Database db;
    std::filesystem::path dir;
};

std::variant<Opened, RpcError> open(const Call& c) {
    auto db = c.env.open_database();
    if (!db) return failed(fmt::format("Failed to open the database: {}", db.error().message));
    return Opened{std::move(*db), c.env.quarantine_dir()};
}

// The message with this id as the caller may see it, or the error to answer (not found for
// ids outside the scope, exactly as for ids that do not exist).
std::variant<store::QuarantinedMessage, RpcError> find_scoped(const Call& c, Opened& o, std::int64_t id) {
    auto found = store::find_quarantined(o.db, o.dir, id);
    if (!found) return failed(found.error().message);
    if (!found->has_value()) return no_such_message(id);
    auto m = scoped(c.who(), std::move(**found));
    if (!m) return no_such_message(id);
    return std::move(*m);
}

// ---- search ----

RpcResult search(const Call& c) {
    store::QuarantineFilter f;
    struct Text {
        const char* name;
        std::string* into;
    };
    for (auto [name, into] : {Text{"sender", &f.sender}, Text{"recipient", &f.recipient}, Text{"subject", &f.subject},
                              Text{"reason", &f.reason}, Text{"text", &f.text}}) {
        if (auto e = take(string_param(c, name, false), *into)) return *e;
        if (into->size() > max_filter_bytes)
            return invalid_params(fmt::format("Parameter \"{}\": at most {} bytes", name, max_filter_bytes));
    }
    if (!f.text.empty())
        if (auto q = store::fts_query(f.text); !q) return invalid_params(fmt::format("Parameter \"text\": {}", q.error().message));
    if (auto e = take(number_param(c, "min_score"), f.min_score)) return *e;
    if (auto e = take(number_param(c, "max_score"), f.max_score)) return *e;
    if (f.min_score && f.max_score && *f.min_score > *f.max_score)
        return invalid_params(fmt::format("min_score {} is above max_score {}", *f.min_score, *f.max_score));

    std::string state;
    if (auto e = take(string_param(c, "state", false), state)) return *e;
    if (state == "held") f.state = store::HeldState::Held;
    else if (state == "released") f.state = store::HeldState::Released;
    else if (state.empty() || state == "any") f.state = store::HeldState::Any;
    else return invalid_params("Parameter \"state\" must be \"held\", \"released\" or \"any\"");

    for (auto [name, into] : {std::pair{"since", &f.since_us}, std::pair{"until", &f.until_us}}) {
        std::string text;
        if (auto e = take(string_param(c, name, false), text)) return *e;
        if (text.empty()) continue;
        if (text.size() > 100) return invalid_params(fmt::format("Parameter \"{}\" is not a time", name));
        auto t = store::parse_time(text, store::now_us());
        if (!t) return invalid_params(fmt::format("Parameter \"{}\": {}", name, t.error().message));
        *into = *t;
    }

    std::int64_t limit = 0, offset = 0;
    if (auto e = take(int_param(c, "limit", 50), limit)) return *e;
    if (auto e = take(int_param(c, "offset", 0), offset)) return *e;
    if (limit < 1 || limit > 500) return invalid_params("Parameter \"limit\" must be from 1 to 500");
    if (offset < 0 || offset > max_offset)
        return invalid_params(fmt::format("Parameter \"offset\" must be from 0 to {}", max_offset));
    f.limit = static_cast<int>(limit);
    f.offset = static_cast<int>(offset);

    const auto& who = c.who();
    if (!who.is_admin()) f.recipient_scope = who.patterns_with(Right::Quarantine);

    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& o = std::get<Opened>(opened);
    auto found = store::search_quarantine(o.db, o.dir, f);
    if (!found) return failed(found.error().message);
    Json messages = Json::array();
    for (auto& m : *found)
        if (auto s = scoped(who, std::move(m))) messages.push_back(message_for(who, *s));
    return Json{{"messages", std::move(messages)}, {"limit", limit}, {"offset", offset}};
}

// ---- show ----

// At most max bytes of the file (a message bigger than that is shown from its beginning).
Result<std::string> read_start(const std::filesystem::path& path, std::uint64_t max) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{fmt::format("Failed to read {}: {}", path.string(), std::strerror(errno))};
    std::string out;
    char buf[65536];
    while (out.size() < max && in.read(buf, static_cast<std::streamsize>(std::min<std::uint64_t>(sizeof buf, max - out.size()))),
           in.gcount() > 0)
        out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (in.bad()) return Error{fmt::format("Failed to read {}", path.string())};
    return out;
}

// Cut at most max bytes, not inside a UTF-8 sequence.
std::string utf8_prefix(std::string_view s, std::size_t max, bool& cut) {
    cut = s.size() > max;
    if (!cut) return std::string(s);
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n));
}

RpcResult show(const Call& c) {
    std::int64_t id = 0;
    if (auto e = take(int_param(c, "id"), id)) return *e;
    if (id <= 0) return invalid_params("Parameter \"id\" must be a message id (a positive number)");
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& o = std::get<Opened>(opened);
    store::QuarantinedMessage m;
    if (auto e = take(find_scoped(c, o, id), m)) return *e;

    Json out = message_for(c.who(), m);
    auto headers = store::read_message_headers(m.path, max_header_bytes);
    // The server's paths are for administrators only.
    auto unreadable = [&](const Error& e) {
        return failed(c.who().is_admin() ? e.message : fmt::format("Failed to read the stored message {}", id));
    };
    if (!headers) return unreadable(headers.error());
    out["headers"] = std::move(*headers);

    auto raw = read_start(m.path, max_parse_bytes);
    if (!raw) return unreadable(raw.error());
    auto parsed = mail::parse_message(*raw);
    Json parts = Json::array();
    const mail::Part* text_part = nullptr;
    const mail::Part* html_part = nullptr;
    for (std::size_t i = 0; i < parsed.parts.size(); ++i) {
        const auto& p = parsed.parts[i];
        if (i < max_parts)
            parts.push_back({{"part", i + 1},
                             {"content_type", p.content_type},
                             {"filename", p.filename},
                             {"size", p.decoded_size},
                             {"attachment", p.is_attachment}});
        if (!p.is_attachment && p.content_type == "text/plain" && !text_part) text_part = &p;
        if (!p.is_attachment && p.content_type == "text/html" && !html_part) html_part = &p;
    }
    // The first plain text part; else the first HTML part as text (never the HTML itself).
    const mail::Part* shown = text_part ? text_part : html_part;
    bool cut = false;
    out["parts"] = std::move(parts);
    out["parts_truncated"] = parsed.parts.size() > max_parts;
    out["text"] = shown ? utf8_prefix(shown->text, max_text_bytes, cut) : std::string();
    out["text_part"] = shown ? Json(static_cast<std::size_t>(shown - parsed.parts.data()) + 1) : Json(nullptr);
    out["text_truncated"] = cut || m.size > max_parse_bytes;
    out["why"] = {{"reason", m.meta.reason},
                  {"rule", m.meta.rule},
                  {"score", m.meta.score ? Json(*m.meta.score) : Json(nullptr)}};
    return out;
}

// ---- release, delete ----

RpcResult release(const Call& c) {
    std::vector<std::int64_t> ids;
    std::vector<std::string> asked;
    if (auto e = take(ids_param(c, "ids", max_ids), ids)) return *e;
    if (auto e = take(strings_param(c, "recipients", false, 100, 320), asked)) return *e;
    const auto& who = c.who();
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& o = std::get<Opened>(opened);
    quarantine::Places places{o.dir, queue::spool_directory(*c.env.config)};

    Json results = Json::array();
    auto error = [&](std::int64_t id, const std::string& message) { results.push_back({{"id", id}, {"error", message}}); };
    for (auto id : ids) {
        store::QuarantinedMessage m;
        if (auto e = take(find_scoped(c, o, id), m)) {
            error(id, e->message);
            continue;
        }
        quarantine::ReleaseRequest rq{.id = id, .actor = actor(c)};
        if (!asked.empty()) {
            // Each must be one of the recipients the caller sees (an Admin sees all; release()
            // then names the ones it was held for).
            std::string refused;
            for (const auto& a : asked) {
                auto want = trim(a);
                if (want.size() > 2 && want.front() == '<' && want.back() == '>') want = want.substr(1, want.size() - 2);
                bool known = std::any_of(m.states.begin(), m.states.end(),
                                         [&](const auto& s) { return ascii_iequals(s.recipient, want); });
                if (!known && !who.is_admin()) refused += (refused.empty() ? "" : ", ") + std::string(want);
            }
            if (!refused.empty()) {
                error(id, fmt::format("Message {} was not held for {} (among the recipients you may release)", id, refused));
                continue;
            }
            rq.recipients = asked;
        } else if (!who.is_admin()) {
            for (const auto& s : m.states) rq.recipients.push_back(s.recipient);  // in scope only (scoped())
        }
        auto r = quarantine::release(o.db, places, rq);
        if (!r) {
            error(id, r.error().message);
            continue;
        }
        results.push_back({{"id", id},
                           {"released", r->released},
                           {"already_released", r->already_released},
                           {"queue_entry", r->queue_entry}});
    }
    return Json{{"results", std::move(results)}};
}

RpcResult remove(const Call& c) {
    std::vector<std::int64_t> ids;
    if (auto e = take(ids_param(c, "ids", max_ids), ids)) return *e;
    const auto& who = c.who();
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& o = std::get<Opened>(opened);

    // First every check, so a refused call deletes nothing: a message that also went to
    // recipients outside the caller's scope is theirs too, and stays.
    Json results = Json::array();
    std::vector<std::int64_t> deletable;
    std::vector<std::string> shared;
    for (auto id : ids) {
        auto found = store::find_quarantined(o.db, o.dir, id);
        if (!found) return failed(found.error().message);
        if (!found->has_value() || !scoped(who, **found)) {
            results.push_back({{"id", id}, {"error", no_such_message(id).message}});
            continue;
        }
        const auto& states = (*found)->states;
        if (!who.is_admin() &&
            !std::all_of(states.begin(), states.end(), [&](const auto& s) { return sees(who, s.recipient); }))
            shared.push_back(std::to_string(id));
        else
            deletable.push_back(id);
    }
    if (!shared.empty()) {
        std::string list;
        for (const auto& s : shared) list += (list.empty() ? "" : ", ") + s;
        return forbidden(fmt::format("Not deleted: message{} {} also went to recipients outside your scope (only an "
                                     "administrator can delete {}); nothing was deleted",
                                     shared.size() == 1 ? "" : "s", list, shared.size() == 1 ? "it" : "them"));
    }
    for (auto id : deletable) {
        auto r = quarantine::remove(o.db, o.dir, id, actor(c));
        if (!r) results.push_back({{"id", id}, {"error", r.error().message}});
        else if (!*r) results.push_back({{"id", id}, {"error", no_such_message(id).message}});
        else results.push_back({{"id", id}, {"deleted", true}});
    }
    // In the order asked.
    std::stable_sort(results.begin(), results.end(), [&](const Json& a, const Json& b) {
        auto pos = [&](const Json& j) { return std::find(ids.begin(), ids.end(), j["id"].get<std::int64_t>()) - ids.begin(); };
        return pos(a) < pos(b);
    });
    return Json{{"results", std::move(results)}};
}

}  // namespace

Json quarantined_message_json(const store::QuarantinedMessage& m) {
    Json states = Json::array();
    for (const auto& s : m.states)
        states.push_back({{"recipient", s.recipient},
                          {"released", s.released_us.has_value()},
                          {"released_us", s.released_us ? Json(*s.released_us) : Json(nullptr)},
                          {"released_by", s.released_by},
                          {"released_to", s.released_to}});
    return Json{{"id", m.id},
                {"time_us", m.meta.time_us},
                {"time", timestamp(m.meta.time_us)},
                {"queue_id", m.meta.queue_id},
                {"client_ip", m.meta.client_ip},
                {"sender", m.meta.sender},
                {"recipients", m.meta.recipients},
                {"subject", m.meta.subject},
                {"reason", m.meta.reason},
                {"score", m.meta.score ? Json(*m.meta.score) : Json(nullptr)},
                {"size", m.size},
                {"node", m.meta.node},
                {"rule", m.meta.rule},
                {"file", m.path.string()},
                {"held", m.held()},
                {"recipient_states", std::move(states)}};
}

std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void add_quarantine_methods(MethodTable& t) {
    const Access access{.admin_realm = true, .user_realm = true, .admin_only = false, .right = Right::Quarantine};
    t.push_back({"quarantine.search", "Search quarantined messages (those of recipients in scope), newest first", access,
                 search});
    t.push_back({"quarantine.show", "One quarantined message: metadata, header block, parts and its text", access, show});
    t.push_back({"quarantine.release", "Deliver quarantined messages to their recipients in scope (through pmx-queued)",
                 access, release});
    t.push_back({"quarantine.delete", "Delete quarantined messages for good (all their recipients must be in scope)",
                 access, remove});
}

}  // namespace pmx::web
