// The IP Blocker's lists and its one decision.
//
// FileLists: block and exception lists read from files (one address or CIDR network per
// line, "#" or ";" starts a comment), plus general.internal_networks; compiled once per
// (re)load. DbBlocks: the manual and dynamic blocks from the database, compiled whenever
// they change. Both are immutable; the daemon swaps whole snapshots.
//
// The order of the decision: internal networks and exceptions are never blocked; then a
// block from the database (manual or dynamic); then the block list files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipblock/matcher.hpp"
#include "util/result.hpp"

namespace pmx::ipblock {

struct ListProblem {
    std::string file{};
    std::uint32_t line = 0;
    std::string message{};
    std::string describe() const;  // "file:line: message"
};

struct FileLists {
    Matcher block;
    Matcher exception;
    Matcher internal;
    std::vector<std::string> block_sources;      // Matcher::Entry::source → file path
    std::vector<std::string> exception_sources;
    std::vector<std::string> internal_texts;     // internal.item → the configured text
    std::size_t lines_skipped = 0;               // lines with errors (reported in problems)
    double load_seconds = 0;
};

struct ListFiles {
    std::vector<std::filesystem::path> block{};
    std::vector<std::filesystem::path> exception{};
    std::vector<std::string> internal_networks{};  // general.internal_networks
};

// Reads and compiles the lists. A file that cannot be read is an error (naming it); a bad
// line is skipped and reported in problems (at most max_problems kept, the rest counted in
// lines_skipped). A bad internal network is an error (the config check should have caught it).
Result<std::shared_ptr<const FileLists>> load_lists(const ListFiles& files, std::vector<ListProblem>& problems,
                                                    std::size_t max_problems = 50);

// Parses list text (one file's content) into the builder; source is the file's number.
void parse_list_text(std::string_view text, const std::string& name, std::uint16_t source, Matcher::Builder& out,
                     std::vector<ListProblem>& problems, std::size_t max_problems, std::size_t& skipped);

// One row of the database's ipblock table.
struct BlockRow {
    std::string network{};          // canonical text (format_network)
    std::string source = "manual";  // manual | dynamic
    std::string reason{};
    std::int64_t added_us = 0;
    std::optional<std::int64_t> expires_us{};  // none: until removed
    std::int64_t offenses = 1;
    bool active(std::int64_t now_us) const { return !expires_us || *expires_us > now_us; }
};

struct DbBlocks {
    Matcher matcher;
    std::vector<BlockRow> rows;  // Matcher::Entry::item → row
    std::int64_t version = -1;   // ipblock_version when read
    std::optional<std::int64_t> next_expiry_us;
};

// Compiles the active rows (rows whose network does not parse are skipped).
std::shared_ptr<const DbBlocks> compile_blocks(std::vector<BlockRow> rows, std::int64_t version, std::int64_t now_us);

struct Verdict {
    enum class Why { NotListed, Internal, Exception, Manual, Dynamic, ListFile };
    Why why = Why::NotListed;
    bool blocked() const { return why == Why::Manual || why == Why::Dynamic || why == Why::ListFile; }
    std::string entry;    // the matching network
    std::string list;     // file path, "general.internal_networks", or "database"
    std::uint32_t line = 0;  // in list (files)
    std::string reason;   // what REJECT says for {reason}
    std::optional<std::int64_t> expires_us;
};

std::string why_name(Verdict::Why why);  // not-listed, internal, exception, manual, dynamic, list

Verdict decide(const FileLists* files, const DbBlocks* db, const Address& a, std::int64_t now_us);

// "REJECT <text>" from ipblock.reject_text, with {ip}, {reason} and {url} (the lookup URL
// template with its own {ip} replaced) filled in. Control characters become spaces: the
// policy protocol is line based and the reason may come from an admin's --reason.
std::string reject_action(std::string_view text_template, std::string_view url_template, const std::string& ip,
                          const std::string& reason);

}  // namespace pmx::ipblock
