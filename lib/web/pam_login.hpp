// System accounts signing in to the admin interface: PAM (service httpd.pam_service, usually
// pam_unix: /etc/shadow) checks the password and the account (expired, locked), with PAM_RHOST
// set to the client's address for the PAM modules' logs; the system groups decide the role.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::web {

// Whether name could be a system account name: 1-64 of [A-Za-z0-9._-], not starting with '-'.
bool plausible_account_name(std::string_view name);

enum class PamVerdict { Accepted, Refused };

// pam_authenticate + pam_acct_mgmt. Refused: wrong password, unknown, expired or locked account.
// Error: PAM itself failed (no such service, a module missing). Serialized (PAM modules are not
// all thread-safe); PAM's failure delay is skipped: the caller's rate limit does that job
// without holding a server thread.
Result<PamVerdict> pam_check_password(std::string_view service, std::string_view name, std::string_view password,
                                      std::string_view client_ip);

// Whether the system account is a member of the group (primary or supplementary). False when
// either does not exist.
bool system_account_in_group(std::string_view name, std::string_view group);

}  // namespace pmx::web
