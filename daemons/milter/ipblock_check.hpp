// The IP Blocker's decision in the milter's connect step, for MTAs without Postfix's policy
// delegation (sendmail): pmx-milter asks pmx-ipblockd over its socket, with the same protocol
// Postfix uses, so lists and dynamic blocks live in one place.
#pragma once

#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace pmx::milter {

struct ConnectDecision {
    enum class Kind { Pass, Reject, Tempfail };
    Kind kind = Kind::Pass;
    std::string code;   // "550" / "451"
    std::string xcode;  // "5.7.1"
    std::string text;   // reply text from pmx-ipblockd
};

// Asks pmx-ipblockd (ipblock.socket) about client_ip with a short deadline. When it cannot be
// asked, ipblock.on_failure decides (pass, or tempfail so the sender retries).
ConnectDecision ask_ipblockd(const config::Snapshot& config, std::string_view client_ip);

}  // namespace pmx::milter
