// End users' own passwords (web_users.password_hash): crypt(3) hashes from libxcrypt, yescrypt
// ("$y$") where the library offers it, else SHA-512 crypt ("$6$"). System accounts never have
// one here: PAM checks them (web/pam_login.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::web {

inline constexpr std::size_t kMinPasswordLength = 10;    // bytes
inline constexpr std::size_t kMaxPasswordLength = 1024;  // bytes: hashing cost stays bounded

// Error (a sentence for the user) when the password is too short, too long or holds a NUL byte.
Result<void> check_password_rules(std::string_view password);

// A new hash with a fresh random salt. Errors: the rules above, or crypt failing.
Result<std::string> hash_password(std::string_view password);

// Whether password matches hash (compared in constant time). False for an empty or malformed
// hash, or a password over the maximum length.
bool verify_password(std::string_view password, std::string_view hash);

// Spends the time of one verification against a throw-away hash: for unknown accounts, so
// the reply time does not tell whether an account exists.
void verify_password_dummy(std::string_view password);

}  // namespace pmx::web
