// What each kind of rule reads, built from a parsed message the way SpamAssassin 4.0 builds it
// (Mail::SpamAssassin::Message and PerMsgStatus::get):
//  - body: the Subject line, then the rendered text of every text part (HTML converted to text),
//    blank-line-separated paragraphs each folded onto one line with whitespace collapsed, lines
//    longer than 2048 bytes split at a space;
//  - rawbody: each text part transfer-decoded (not HTML-stripped) in chunks of 2048..4096 bytes;
//  - full: the raw message;
//  - header: decoded, unfolded values each ending in "\n" (`:raw` undecoded), ALL = every
//    "Name: value\n", ToCc, MESSAGEID, EnvelopeFrom, `:addr`, `:name`, `:first`, `:last`;
//  - uri: the URIs of spam/uris.hpp.
// Views are built lazily, once per message; a View belongs to one check() call (one thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/rules/regex.hpp"
#include "spam/rules/rules.hpp"

namespace pmx::spam::rules::detail {

struct HeaderTarget {
    std::string name;  // "Subject", "ALL", "ToCc", "MESSAGEID", "EnvelopeFrom", ...
    bool raw = false, addr = false, display_name = false, first = false, last = false;
    bool host = false, domain = false, ip = false, revip = false;
};

// "From:addr:raw" → target. Returns an error text for what pmx cannot compute.
std::optional<std::string> parse_header_target(std::string_view spec, HeaderTarget& out);

// RFC 5322 address lists, loosely (as mail clients read them): address and display name.
struct Address {
    std::string address;                // "user@example.com" ("" when none could be found)
    std::optional<std::string> phrase;  // display name, quotes removed
};
std::vector<Address> parse_addresses(std::string_view value);

class View {
public:
    explicit View(const CheckInput& in) : in_(in) {}

    const ScanText& body();
    const ScanText& rawbody();
    const ScanText& full();
    const ScanText& uris();
    const std::vector<std::string>& uri_list();

    // SpamAssassin's get(): every value (plain headers end in "\n"); empty when the header is
    // absent.
    std::vector<std::string> get(const HeaderTarget& t);
    // The string a header rule matches: the values joined (or nullopt when there are none).
    std::optional<std::string> get_joined(const HeaderTarget& t);

    const CheckInput& input() const { return in_; }
    // The decoded text of every text part, HTML converted, joined with "\n" (for evals).
    const std::string& rendered_text();
    // The pristine header block (LF line ends, folding kept).
    std::string_view pristine_header();

private:
    const CheckInput& in_;
    std::optional<ScanText> body_, rawbody_, full_, uris_;
    std::optional<std::vector<std::string>> uri_list_;
    std::optional<std::string> rendered_;
    std::optional<std::string> pristine_header_;
    std::string full_lf_;
};

}  // namespace pmx::spam::rules::detail
