#include "web/pam_login.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace pmx::web {

namespace {

struct ConvData {
    const std::string* password;
};

// The PAM conversation: answers password prompts with the password given, ignores
// informational messages and refuses anything else. A thin C shim: no exceptions cross it.
extern "C" int pmx_pam_conversation(int count, const struct pam_message** messages, struct pam_response** responses,
                                    void* appdata) noexcept {
    if (count <= 0 || count > PAM_MAX_NUM_MSG || !messages || !responses || !appdata) return PAM_CONV_ERR;
    auto* data = static_cast<ConvData*>(appdata);
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (!out) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        switch (messages[i]->msg_style) {
            case PAM_PROMPT_ECHO_OFF:
                out[i].resp = strdup(data->password->c_str());
                if (!out[i].resp) goto fail;
                break;
            case PAM_ERROR_MSG:
            case PAM_TEXT_INFO:
                break;
            default:  // PAM_PROMPT_ECHO_ON and anything else: nobody is there to answer
                goto fail;
        }
    }
    *responses = out;
    return PAM_SUCCESS;
fail:
    for (int i = 0; i < count; ++i) {
        if (out[i].resp) {
            explicit_bzero(out[i].resp, std::strlen(out[i].resp));
            std::free(out[i].resp);
        }
    }
    std::free(out);
    return PAM_CONV_ERR;
}

// Replaces PAM's failure delay (pam_unix asks for ~2 s) with nothing.
extern "C" void pmx_pam_no_delay(int, unsigned, void*) noexcept {}

std::mutex pam_mutex;

}  // namespace

bool plausible_account_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '-') return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Result<PamVerdict> pam_check_password(std::string_view service, std::string_view name, std::string_view password,
                                      std::string_view client_ip) {
    if (!plausible_account_name(name) || password.find('\0') != std::string_view::npos) return PamVerdict::Refused;
    const std::string svc(service), user(name), pass(password), rhost(client_ip);
    ConvData data{&pass};
    const pam_conv conv{pmx_pam_conversation, &data};

    std::lock_guard lock(pam_mutex);
    pam_handle_t* pamh = nullptr;
    int rc = pam_start(svc.c_str(), user.c_str(), &conv, &pamh);
    if (rc != PAM_SUCCESS || !pamh)
        return Error{fmt::format("Failed to start PAM service {}: {}", svc, pamh ? pam_strerror(pamh, rc) : "pam_start failed")};
    pam_set_item(pamh, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&pmx_pam_no_delay));
    if (!rhost.empty()) pam_set_item(pamh, PAM_RHOST, rhost.c_str());
    pam_set_item(pamh, PAM_RUSER, user.c_str());

    rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS) rc = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    Result<PamVerdict> result = PamVerdict::Refused;
    switch (rc) {
        case PAM_SUCCESS: result = PamVerdict::Accepted; break;
        case PAM_AUTH_ERR: case PAM_USER_UNKNOWN: case PAM_MAXTRIES: case PAM_CRED_INSUFFICIENT:
        case PAM_ACCT_EXPIRED: case PAM_NEW_AUTHTOK_REQD: case PAM_PERM_DENIED: case PAM_AUTHTOK_EXPIRED:
            result = PamVerdict::Refused;
            break;
        default:  // PAM_ABORT, PAM_SYSTEM_ERR, PAM_AUTHINFO_UNAVAIL, a module that failed to load, ...
            result = Error{fmt::format("Failed to check the password with PAM service {}: {}", svc, pam_strerror(pamh, rc))};
    }
    pam_end(pamh, rc);
    return result;
}

bool system_account_in_group(std::string_view name, std::string_view group) {
    if (!plausible_account_name(name) || group.empty()) return false;
    const std::string user(name), grname(group);
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* pwp = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pwp) != 0 || !pwp) return false;
    const gid_t primary = pw.pw_gid;

    struct group gr{};
    struct group* grp = nullptr;
    std::vector<char> gbuf(65536);
    if (getgrnam_r(grname.c_str(), &gr, gbuf.data(), gbuf.size(), &grp) != 0 || !grp) return false;
    const gid_t wanted = gr.gr_gid;
    if (primary == wanted) return true;

    int n = 64;
    std::vector<gid_t> groups;
    for (int attempt = 0; attempt < 4; ++attempt) {
        groups.resize(static_cast<std::size_t>(n));
        int count = n;
        if (getgrouplist(user.c_str(), primary, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            for (gid_t g : groups)
                if (g == wanted) return true;
            return false;
        }
        n = count > n ? count : n * 4;  // too small: count says how many there are
    }
    return false;
}

}  // namespace pmx::web
