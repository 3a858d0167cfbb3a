// ParsedMessage's lookups.
#include "mail/message.hpp"

#include <algorithm>

namespace pmx::mail {

namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return low(x) == low(y);
           });
}
}  // namespace

const Header* ParsedMessage::header(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

std::vector<const Header*> ParsedMessage::headers_named(std::string_view name) const {
    std::vector<const Header*> out;
    for (const auto& h : headers)
        if (iequals(h.name, name)) out.push_back(&h);
    return out;
}

bool ParsedMessage::has_flag(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

}  // namespace pmx::mail
