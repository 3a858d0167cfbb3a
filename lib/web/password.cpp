#include "web/password.hpp"

#include <crypt.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "secret/crypto.hpp"

namespace pmx::web {

namespace {

// crypt_r's work area is 32 KiB: on the heap, one per call (thread-safe, no static state).
Result<std::string> crypt_with(std::string_view password, const char* setting) {
    auto data = std::make_unique<crypt_data>();
    std::memset(data.get(), 0, sizeof(crypt_data));
    const std::string phrase(password);
    const char* out = crypt_r(phrase.c_str(), setting, data.get());
    std::string result = out ? out : "";
    std::memset(data.get(), 0, sizeof(crypt_data));  // the work area held the password
    if (result.empty() || result.front() == '*')
        return Error{fmt::format("Failed to hash the password: {}", out ? "unsupported hash method" : std::strerror(errno))};
    return result;
}

Result<std::string> new_setting() {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    for (const char* prefix : {"$y$", "$6$"}) {  // yescrypt, else SHA-512 crypt
        if (crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof setting) && setting[0] != '*')
            return std::string(setting);
    }
    return Error{fmt::format("Failed to make a password salt: {}", std::strerror(errno))};
}

}  // namespace

Result<void> check_password_rules(std::string_view password) {
    if (password.size() < kMinPasswordLength)
        return Error{fmt::format("The password is too short: at least {} characters", kMinPasswordLength)};
    if (password.size() > kMaxPasswordLength)
        return Error{fmt::format("The password is too long: at most {} bytes", kMaxPasswordLength)};
    if (password.find('\0') != std::string_view::npos) return Error{"The password must not contain a NUL byte"};
    return {};
}

Result<std::string> hash_password(std::string_view password) {
    if (auto ok = check_password_rules(password); !ok) return ok.error();
    auto setting = new_setting();
    if (!setting) return setting.error();
    return crypt_with(password, setting->c_str());
}

bool verify_password(std::string_view password, std::string_view hash) {
    if (hash.empty() || hash.front() != '$' || password.size() > kMaxPasswordLength ||
        password.find('\0') != std::string_view::npos)
        return false;
    auto computed = crypt_with(password, std::string(hash).c_str());
    if (!computed) return false;
    return secret::constant_time_equal(*computed, hash);
}

void verify_password_dummy(std::string_view password) {
    static std::once_flag once;
    static std::string dummy;
    std::call_once(once, [] {
        auto h = hash_password("pmx-dummy-password-for-timing");
        dummy = h ? *h : std::string();
    });
    (void)verify_password(password.substr(0, kMaxPasswordLength), dummy);
}

}  // namespace pmx::web
