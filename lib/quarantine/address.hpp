// An address to deliver a released or forwarded message to, as people type it: "<a@b>" or
// "a@b". Checked like a list owner (store::normalize_owner: one "@", no spaces, no wildcards,
// at most 320 bytes) but kept in its own case: the local part may be case-sensitive.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "store/lists_store.hpp"
#include "util/result.hpp"
#include "util/text.hpp"

namespace pmx::quarantine {

inline Result<std::string> delivery_address(std::string_view text) {
    auto a = trim(text);
    if (a.size() > 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
    if (a.empty()) return Error{"An empty address is no place to deliver to"};
    if (auto ok = store::normalize_owner(a); !ok) return ok.error();
    return std::string(a);
}

}  // namespace pmx::quarantine
