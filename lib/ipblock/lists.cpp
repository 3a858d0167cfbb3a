#include "ipblock/lists.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "util/text.hpp"

namespace pmx::ipblock {

namespace {

Result<std::string> slurp(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Error{fmt::format("Failed to read IP list {}: {}", path.string(), std::strerror(errno))};
    std::string out;
    char buf[1 << 16];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    bool bad = std::ferror(f);
    std::fclose(f);
    if (bad) return Error{fmt::format("Failed to read IP list {}: read error", path.string())};
    return out;
}

void problem(std::vector<ListProblem>& problems, std::size_t max, std::size_t& skipped, const std::string& file,
             std::uint32_t line, std::string message) {
    ++skipped;
    if (problems.size() < max) problems.push_back({file, line, std::move(message)});
}

}  // namespace

std::string ListProblem::describe() const { return fmt::format("{}:{}: {}", file, line, message); }

void parse_list_text(std::string_view text, const std::string& name, std::uint16_t source, Matcher::Builder& out,
                     std::vector<ListProblem>& problems, std::size_t max_problems, std::size_t& skipped) {
    std::uint32_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        auto cut = line.find_first_of("#;");
        if (cut != std::string_view::npos) line = line.substr(0, cut);
        line = trim(line);
        if (line.empty()) continue;
        auto space = line.find_first_of(" \t");
        if (space != std::string_view::npos) {
            problem(problems, max_problems, skipped, name, line_no,
                    fmt::format("one address or network per line; text after \"{}\" (a comment starts with #)",
                                line.substr(0, space)));
            continue;
        }
        auto n = parse_network(line);
        if (!n) {
            problem(problems, max_problems, skipped, name, line_no, n.error().message);
            continue;
        }
        out.add(*n, line_no, source);
    }
}

Result<std::shared_ptr<const FileLists>> load_lists(const ListFiles& files, std::vector<ListProblem>& problems,
                                                    std::size_t max_problems) {
    auto start = std::chrono::steady_clock::now();
    auto lists = std::make_shared<FileLists>();
    auto compile = [&](const std::vector<std::filesystem::path>& paths, std::vector<std::string>& sources,
                       Matcher& into) -> Result<void> {
        if (paths.size() > std::numeric_limits<std::uint16_t>::max())
            return Error{"Failed to load IP lists: too many files"};
        Matcher::Builder b;
        for (const auto& p : paths) {
            auto text = slurp(p);
            if (!text) return text.error();
            // A rough guess (about 16 bytes a line) saves the vector's regrowth on large lists.
            b.reserve(b.size() + text->size() / 16);
            sources.push_back(p.string());
            parse_list_text(*text, p.string(), static_cast<std::uint16_t>(sources.size() - 1), b, problems,
                            max_problems, lists->lines_skipped);
        }
        into = b.build();
        return {};
    };
    if (auto r = compile(files.block, lists->block_sources, lists->block); !r) return r.error();
    if (auto r = compile(files.exception, lists->exception_sources, lists->exception); !r) return r.error();
    Matcher::Builder internal;
    for (std::size_t i = 0; i < files.internal_networks.size(); ++i) {
        auto n = parse_network(files.internal_networks[i]);
        if (!n) return Error{fmt::format("Failed to read general.internal_networks: {}", n.error().message)};
        internal.add(*n, static_cast<std::uint32_t>(i), 0);
        lists->internal_texts.push_back(files.internal_networks[i]);
    }
    lists->internal = internal.build();
    lists->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::shared_ptr<const FileLists>(std::move(lists));
}

std::shared_ptr<const DbBlocks> compile_blocks(std::vector<BlockRow> rows, std::int64_t version, std::int64_t now_us) {
    auto out = std::make_shared<DbBlocks>();
    out->version = version;
    Matcher::Builder b;
    for (auto& r : rows) {
        if (!r.active(now_us)) continue;
        auto n = parse_network(r.network);
        if (!n) continue;
        if (r.expires_us && (!out->next_expiry_us || *r.expires_us < *out->next_expiry_us))
            out->next_expiry_us = r.expires_us;
        b.add(*n, static_cast<std::uint32_t>(out->rows.size()), 0);
        out->rows.push_back(std::move(r));
    }
    out->matcher = b.build();
    return out;
}

std::string why_name(Verdict::Why why) {
    switch (why) {
        case Verdict::Why::NotListed: return "not-listed";
        case Verdict::Why::Internal: return "internal";
        case Verdict::Why::Exception: return "exception";
        case Verdict::Why::Manual: return "manual";
        case Verdict::Why::Dynamic: return "dynamic";
        case Verdict::Why::ListFile: return "list";
    }
    return "?";
}

Verdict decide(const FileLists* files, const DbBlocks* db, const Address& a, std::int64_t now_us) {
    Verdict v;
    if (files) {
        if (const auto* e = files->internal.find(a)) {
            v.why = Verdict::Why::Internal;
            v.entry = files->internal_texts[e->item];
            v.list = "general.internal_networks";
            return v;
        }
        if (const auto* e = files->exception.find(a)) {
            v.why = Verdict::Why::Exception;
            v.entry = format_network(files->exception.network_of(a, *e));
            v.list = files->exception_sources[e->source];
            v.line = e->item;
            return v;
        }
    }
    if (db) {
        if (const auto* e = db->matcher.find(a)) {
            const BlockRow& row = db->rows[e->item];
            // Expired since the snapshot was compiled: the next refresh drops it.
            if (row.active(now_us)) {
                v.why = row.source == "dynamic" ? Verdict::Why::Dynamic : Verdict::Why::Manual;
                v.entry = row.network;
                v.list = "database";
                v.reason = row.reason.empty() ? (row.source == "dynamic" ? "sent too much spam" : "blocked by the administrator")
                                              : row.reason;
                v.expires_us = row.expires_us;
                return v;
            }
        }
    }
    if (files) {
        if (const auto* e = files->block.find(a)) {
            v.why = Verdict::Why::ListFile;
            v.entry = format_network(files->block.network_of(a, *e));
            v.list = files->block_sources[e->source];
            v.line = e->item;
            v.reason = fmt::format("listed in {}", std::filesystem::path(v.list).filename().string());
            return v;
        }
    }
    return v;
}

std::string reject_action(std::string_view text_template, std::string_view url_template, const std::string& ip,
                          const std::string& reason) {
    auto expand = [&](std::string_view t, std::string_view url) {
        std::string out;
        for (std::size_t i = 0; i < t.size();) {
            if (t.substr(i).starts_with("{ip}")) { out += ip; i += 4; }
            else if (t.substr(i).starts_with("{reason}")) { out += reason; i += 8; }
            else if (t.substr(i).starts_with("{url}")) { out += url; i += 5; }
            else out += t[i++];
        }
        return out;
    };
    std::string url = expand(url_template, "");
    std::string text = expand(text_template, url);
    for (auto& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    text = std::string(trim(text));
    if (text.size() > 400) text.resize(400);  // an SMTP reply line stays under 512 bytes
    return text.empty() ? "REJECT" : "REJECT " + text;
}

}  // namespace pmx::ipblock
