// Cutting parts out: a second, small structure walk that records where each entity (headers
// and body) lies, with the same boundary rules as the MIME parser (lib/mail/mime.cpp). A part
// is matched to the parser's by its body range; any disagreement fails the cut, never guesses.
#include "av/remove_parts.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "mail/headers.hpp"
#include "mail/lines.hpp"
#include "mail/mime.hpp"

namespace pmx::av {

namespace {

using namespace mail::detail;

constexpr int kHardMaxDepth = 100;



bool is_forwarded(std::string_view type) { return type == "message/rfc822" || type == "message/global"; }
bool is_encoded(std::string_view enc) { return enc == "base64" || enc == "quoted-printable"; }

struct Entity {
    std::size_t start = 0;       // first byte of its headers
    std::size_t body_start = 0;
    std::size_t body_end = 0;
    int parent = -1;
    bool in_multipart = false;   // a part of a multipart: it can be cut between delimiters
};

struct Match {
    std::size_t line_start = 0, line_next = 0;
    int level = -1;
    bool close = false;
};

class Locator {
public:
    Locator(std::string_view buf, const mail::ParseLimits& limits) : buf_(buf), limits_(limits) {
        eol_ = '\n';
        if (!std::memchr(buf.data(), '\n', buf.size()) && std::memchr(buf.data(), '\r', buf.size())) eol_ = '\r';
        max_depth_ = std::clamp(limits.max_depth, 0, kHardMaxDepth);
    }

    std::vector<Entity> run() {
        entity(0, 0, "text/plain", -1, false);
        return std::move(out_);
    }

private:
    Match entity(std::size_t pos, int depth, std::string_view default_type, int parent, bool in_multipart) {
        HeaderBlock hb = parse_header_block(buf_, pos, eol_, stack_, limits_, flags_);
        const std::size_t idx = out_.size();
        out_.push_back({pos, hb.body_start, hb.body_start, parent, in_multipart});
        std::string type(default_type), boundary, encoding = "7bit";
        if (const mail::Header* h = mail::find_header(hb.headers, "Content-Type")) {
            FieldValue ct = parse_field(h->raw, flags_);
            type = ct.value.find('/') != std::string::npos ? ct.value : "text/plain";
            if (const std::string* b = ct.param("boundary")) boundary = *b;
        }
        if (const mail::Header* h = mail::find_header(hb.headers, "Content-Transfer-Encoding"))
            encoding = parse_field(h->raw, flags_).value;
        const std::size_t body = hb.body_start;
        const bool descend = depth < max_depth_;
        Match m;
        if (descend && type.starts_with("multipart/") && !boundary.empty()) {
            m = multipart(idx, body, depth, boundary, type == "multipart/digest" ? "message/rfc822" : "text/plain");
        } else if (descend && is_forwarded(type) && !is_encoded(encoding)) {
            m = entity(body, depth + 1, "text/plain", static_cast<int>(idx), false);
            out_[idx].body_end = body_end(body, m);
        } else {
            m = next_boundary(body);
            out_[idx].body_end = body_end(body, m);
        }
        return m;
    }

    Match multipart(std::size_t idx, std::size_t body, int depth, const std::string& boundary,
                    std::string_view child_type) {
        const int level = static_cast<int>(stack_.size());
        stack_.push_back(boundary);
        Match m = next_boundary(body);
        bool opened = false;
        for (;;) {
            if (m.level != level || (m.close && !opened)) {
                if (!opened) {  // no delimiter: the parser reads the body as text
                    stack_.pop_back();
                    out_[idx].body_end = body_end(body, m);
                    return m.level == level ? next_boundary(m.line_next) : m;
                }
                break;  // ended by an outer delimiter or the end of the message
            }
            if (m.close) {
                stack_.pop_back();
                out_[idx].body_end = body_end(body, m);
                return next_boundary(m.line_next);
            }
            opened = true;
            m = entity(m.line_next, depth + 1, child_type, static_cast<int>(idx), true);
        }
        stack_.pop_back();
        out_[idx].body_end = body_end(body, m);
        return m;
    }

    Match next_boundary(std::size_t pos) const {
        Match m;
        m.line_start = m.line_next = buf_.size();
        if (stack_.empty()) return m;
        while (pos < buf_.size()) {
            Line l = line_at(buf_, pos, eol_);
            bool close = false;
            int level = match_boundary(buf_.substr(l.start, l.end - l.start), stack_, close);
            if (level >= 0) return {l.start, l.next, level, close};
            pos = l.next;
        }
        return m;
    }

    std::size_t body_end(std::size_t body_start, const Match& m) const {
        std::size_t end = m.line_start;
        if (m.level < 0 || end <= body_start) return std::max(end, body_start);
        if (buf_[end - 1] == eol_) --end;
        if (eol_ == '\n' && end > body_start && buf_[end - 1] == '\r') --end;
        return end;
    }

    std::string_view buf_;
    mail::ParseLimits limits_;
    char eol_;
    int max_depth_;
    FlagSet flags_;
    std::vector<std::string_view> stack_;
    std::vector<Entity> out_;
};

std::string clean_line(std::string_view s, std::size_t max = 300) {
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
    }
    return out;
}

// Lines of at most ~76 characters, broken at spaces.
std::string wrap(std::string_view text, std::string_view eol) {
    std::string out;
    std::size_t line = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t sp = text.find(' ', i);
        std::string_view word = text.substr(i, sp == std::string_view::npos ? std::string_view::npos : sp - i);
        if (line > 0 && line + 1 + word.size() > 76) {
            out += eol;
            line = 0;
        } else if (line > 0) {
            out += ' ';
            ++line;
        }
        out += word;
        line += word.size();
        if (sp == std::string_view::npos) break;
        i = sp + 1;
    }
    return out;
}

std::string describe(const mail::Part& p) {
    if (!p.filename.empty()) return clean_line(p.filename, 200);
    return fmt::format("an unnamed {} part", clean_line(p.content_type, 100));
}

}  // namespace

std::vector<std::size_t> scan_units(const mail::ParsedMessage& parsed) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < parsed.parts.size(); ++i) {
        const auto& p = parsed.parts[i];
        if (!p.body_in_raw) continue;
        if (is_forwarded(p.content_type) && !is_encoded(p.transfer_encoding)) {
            // Its parts follow it in the list, unless the parser stopped there (depth cap).
            bool children = i + 1 < parsed.parts.size() && parsed.parts[i + 1].depth > p.depth;
            if (children) continue;
        }
        out.push_back(i);
    }
    return out;
}

std::string decoded_body(std::string_view raw, const mail::Part& part) {
    if (!part.body_in_raw || part.body_offset > raw.size()) return {};
    std::string_view body = raw.substr(part.body_offset, part.body_length);
    if (part.transfer_encoding == "base64") return mail::decode_base64(body);
    if (part.transfer_encoding == "quoted-printable") return mail::decode_quoted_printable(body);
    return std::string(body);
}

std::string note_text(const std::vector<policy::NoteSegment>& note, std::string_view filenames,
                      std::string_view virus_names) {
    std::string out;
    for (const auto& s : note) {
        switch (s.kind) {
            case policy::NoteSegment::Kind::Text: out += s.text; break;
            case policy::NoteSegment::Kind::FileName: out += filenames; break;
            case policy::NoteSegment::Kind::VirusName: out += virus_names; break;
        }
    }
    return clean_line(out, 4000);
}

Result<Rewritten> remove_parts(std::string_view raw, const mail::ParsedMessage& parsed,
                               const std::vector<RemovedPart>& removed, const std::vector<policy::NoteSegment>& note,
                               const mail::ParseLimits& limits) {
    if (removed.empty()) return Error{"no part to remove"};
    std::vector<Entity> entities = Locator(raw, limits).run();

    // Each removed part → the entity to cut (itself, or the nearest enclosing one inside a multipart).
    struct Cut {
        std::size_t entity;
        std::vector<std::string> files, names;
    };
    std::vector<Cut> cuts;
    for (const auto& r : removed) {
        if (r.part >= parsed.parts.size()) return Error{fmt::format("no part #{}", r.part + 1)};
        const mail::Part& p = parsed.parts[r.part];
        if (!p.body_in_raw) return Error{fmt::format("{} is inside an encoded forwarded message", describe(p))};
        auto it = std::find_if(entities.begin(), entities.end(), [&](const Entity& e) {
            return e.body_start == p.body_offset && e.body_end == p.body_offset + p.body_length;
        });
        if (it == entities.end()) return Error{fmt::format("{} could not be located in the message", describe(p))};
        int at = static_cast<int>(it - entities.begin());
        while (at >= 0 && !entities[static_cast<std::size_t>(at)].in_multipart) at = entities[static_cast<std::size_t>(at)].parent;
        if (at < 0) return Error{fmt::format("{} is the body of a single-part message", describe(p))};
        auto same = std::find_if(cuts.begin(), cuts.end(), [&](const Cut& c) { return c.entity == static_cast<std::size_t>(at); });
        Cut& c = same != cuts.end() ? *same : cuts.emplace_back(Cut{static_cast<std::size_t>(at), {}, {}});
        c.files.push_back(describe(p));
        for (const auto& n : r.names)
            if (std::find(c.names.begin(), c.names.end(), n) == c.names.end()) c.names.push_back(clean_line(n, 200));
    }
    std::sort(cuts.begin(), cuts.end(), [&](const Cut& a, const Cut& b) {
        return entities[a.entity].start < entities[b.entity].start;
    });
    // A cut inside another one goes with it.
    std::vector<Cut> merged;
    for (auto& c : cuts) {
        if (!merged.empty() && entities[c.entity].start < entities[merged.back().entity].body_end) {
            auto& outer = merged.back();
            outer.files.insert(outer.files.end(), c.files.begin(), c.files.end());
            for (auto& n : c.names)
                if (std::find(outer.names.begin(), outer.names.end(), n) == outer.names.end()) outer.names.push_back(n);
            continue;
        }
        merged.push_back(std::move(c));
    }

    const std::string eol = raw.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
    Rewritten out;
    out.body_offset = entities.front().body_start;
    out.message.reserve(raw.size());
    std::size_t pos = 0;
    for (const auto& c : merged) {
        const Entity& e = entities[c.entity];
        std::string files = fmt::format("{}", fmt::join(c.files, ", "));
        std::string names = fmt::format("{}", fmt::join(c.names, ", "));
        std::string text = note_text(note, files, names);
        bool ascii = std::all_of(text.begin(), text.end(), [](unsigned char ch) { return ch < 0x80; });
        out.message.append(raw.substr(pos, e.start - pos));
        out.message += "Content-Type: text/plain; charset=\"utf-8\"" + eol;
        out.message += "Content-Disposition: inline" + eol;
        out.message += std::string("Content-Transfer-Encoding: ") + (ascii ? "7bit" : "8bit") + eol;
        out.message += eol;
        out.message += wrap(text, eol);
        pos = e.body_end;
        out.removed.push_back(fmt::format("{} ({})", files, names));
    }
    out.message.append(raw.substr(pos));
    return out;
}

}  // namespace pmx::av
