#include "policy/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

namespace pmx::policy {

struct Regex::Impl {
    std::string pattern;
    pcre2_code* code = nullptr;
    pcre2_match_context* context = nullptr;
    bool jit = false;
    ~Impl() {
        pcre2_match_context_free(context);
        pcre2_code_free(code);
    }
};

namespace {

// One match block per thread, big enough for a yes/no answer (no captures are used).
struct ThreadMatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~ThreadMatchData() { pcre2_match_data_free(data); }
};

}  // namespace

Result<Regex> Regex::compile(std::string_view pattern, unsigned match_limit) {
    auto impl = std::make_shared<Impl>();
    impl->pattern = std::string(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                               PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!impl->code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(error, buf, sizeof buf);
        return Error{fmt::format("{} at offset {}", reinterpret_cast<const char*>(buf), offset)};
    }
    impl->jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
    impl->context = pcre2_match_context_create(nullptr);
    if (!impl->context) return Error{"out of memory"};
    pcre2_set_match_limit(impl->context, match_limit);
    pcre2_set_depth_limit(impl->context, match_limit);
    Regex r;
    r.impl_ = std::move(impl);
    return r;
}

Regex::Match Regex::match(std::string_view subject) const {
    thread_local ThreadMatchData md;
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md.data,
                         impl_->context);
    if (rc >= 0) return Match::Yes;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT)
        return Match::LimitHit;
    return Match::No;
}

const std::string& Regex::pattern() const { return impl_->pattern; }
bool Regex::jit() const { return impl_->jit; }

}  // namespace pmx::policy
