// ParsedMessage's lookups.
#include "mail/message.hpp"

#include "util/text.hpp"

#include <algorithm>

namespace pmx::mail {

const Header* find_header(const std::vector<Header>& headers, std::string_view name) {
    for (const auto& h : headers)
        if (ascii_iequals(h.name, name)) return &h;
    return nullptr;
}

const Header* ParsedMessage::header(std::string_view name) const {
    return find_header(headers, name);
}

std::vector<const Header*> ParsedMessage::headers_named(std::string_view name) const {
    std::vector<const Header*> out;
    for (const auto& h : headers)
        if (ascii_iequals(h.name, name)) out.push_back(&h);
    return out;
}

bool ParsedMessage::has_flag(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

}  // namespace pmx::mail
