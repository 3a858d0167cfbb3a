// PCRE2 (JIT) and vectorscan behind PatternSet.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "spam/rules/regex.hpp"

#include <fmt/format.h>
#include <hs/hs.h>
#include <pcre2.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <cctype>
#include <cstdlib>
#include <utility>

namespace pmx::spam::rules::detail {

// ---- Perl delimiters ----

Result<PerlRegex> parse_perl_regex(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    if (text.empty()) return Error{"empty regex"};
    char open = 0;
    std::size_t start = 0;
    if (text[0] == '/') {
        open = '/';
        start = 1;
    } else if (text[0] == 'm' && text.size() > 1 && !std::isalnum(static_cast<unsigned char>(text[1])) &&
               text[1] != ' ' && text[1] != '\t' && text[1] != '_') {
        open = text[1];
        start = 2;
    } else {
        return Error{fmt::format("regex must start with / or m: {}", text.substr(0, 40))};
    }
    char close = open;
    if (open == '{') close = '}';
    else if (open == '(') close = ')';
    else if (open == '<') close = '>';
    else if (open == '[') close = ']';
    // The pattern ends at the last closing delimiter: only flags may follow it.
    std::size_t end = text.rfind(close);
    if (end == std::string_view::npos || end < start) return Error{"regex without its closing delimiter"};
    PerlRegex re;
    re.pattern = std::string(text.substr(start, end - start));
    for (char f : text.substr(end + 1)) {
        switch (f) {
        case 'i': re.i = true; break;
        case 'm': re.m = true; break;
        case 's': re.s = true; break;
        case 'x': re.x = true; break;
        case 'o': case 'g': case 'a': case 'u': case 'l': case 'p': case 'd': break;
        default: return Error{fmt::format("unknown regex flag '{}'", f)};
        }
    }
    // An escaped delimiter inside (\/, \}, \!) is the character itself in PCRE2 too: no unescaping.
    return re;
}

// ---- PCRE2 ----

namespace {

constexpr std::uint32_t kMatchLimit = 1'000'000;  // backtracking cap per match attempt
constexpr std::uint32_t kDepthLimit = 10'000;

struct ThreadMatch {
    pcre2_match_data* md = nullptr;
    pcre2_match_context* mc = nullptr;
    pcre2_jit_stack* js = nullptr;
    ThreadMatch() {
        md = pcre2_match_data_create(1, nullptr);
        mc = pcre2_match_context_create(nullptr);
        js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
        if (mc) {
            pcre2_set_match_limit(mc, kMatchLimit);
            pcre2_set_depth_limit(mc, kDepthLimit);
            if (js) pcre2_jit_stack_assign(mc, nullptr, js);
        }
    }
    ~ThreadMatch() {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        pcre2_jit_stack_free(js);
    }
};

ThreadMatch& thread_match() {
    thread_local ThreadMatch tm;
    return tm;
}

std::uint32_t pcre_options(const PerlRegex& re) {
    std::uint32_t o = 0;
    if (re.i) o |= PCRE2_CASELESS;
    if (re.m) o |= PCRE2_MULTILINE;
    if (re.s) o |= PCRE2_DOTALL;
    if (re.x) o |= PCRE2_EXTENDED;
    return o;
}

}  // namespace

Result<std::shared_ptr<const Pcre>> Pcre::compile(const PerlRegex& re) {
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.pattern.data()), re.pattern.size(),
                                     pcre_options(re), &err, &off, nullptr);
    if (!code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof buf);
        return Error{fmt::format("PCRE2: {} at offset {}", reinterpret_cast<const char*>(buf), off)};
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // without JIT (e.g. no executable memory) it still works
    return std::shared_ptr<const Pcre>(new Pcre(code));
}

Pcre::~Pcre() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Pcre::search(std::string_view subject) const {
    ThreadMatch& tm = thread_match();
    if (!tm.md) return false;
    int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                         subject.size(), 0, 0, tm.md, tm.mc);
    return rc >= 0;
}

int Pcre::count(std::string_view subject, int max) const {
    ThreadMatch& tm = thread_match();
    if (!tm.md) return 0;
    int n = 0;
    PCRE2_SIZE pos = 0;
    while (n < max && pos <= subject.size()) {
        int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                             subject.size(), pos, 0, tm.md, tm.mc);
        if (rc < 0) break;
        ++n;
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(tm.md);
        pos = ov[1] > ov[0] ? ov[1] : ov[0] + 1;  // Perl's //g: an empty match moves on by one
    }
    return n;
}

// ---- ScanText ----

void ScanText::add(std::string_view segment) {
    if (!offsets_.empty()) joined_ += '\n';
    offsets_.push_back(joined_.size());
    lengths_.push_back(segment.size());
    joined_.append(segment);
}

void ScanText::clear() {
    joined_.clear();
    offsets_.clear();
    lengths_.clear();
}

// ---- PatternSet ----

namespace {

// Anchors that mean "start/end of the subject": the joined scan text would move them.
bool has_subject_anchor(const std::string& p) {
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
        if (p[i] != '\\') continue;
        char c = p[i + 1];
        if (c == 'A' || c == 'z' || c == 'Z' || c == 'G') return true;
        ++i;
    }
    return false;
}

// Large bounded repeats ({0,2048}, many {1,100}) make vectorscan's prefilter compile take seconds
// to minutes per pattern (measured on SpamAssassin 4.0's rules): such patterns run on PCRE2 alone,
// whose JIT handles them well.
bool too_costly(const std::string& p) {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\') { ++i; continue; }
        if (p[i] != '{') continue;
        std::size_t j = i + 1, a = 0, b = 0;
        bool digits = false, comma = false, bdigits = false;
        while (j < p.size() && std::isdigit(static_cast<unsigned char>(p[j]))) { a = a * 10 + static_cast<std::size_t>(p[j] - '0'); ++j; digits = true; if (a > 100000) break; }
        if (j < p.size() && p[j] == ',') {
            comma = true;
            ++j;
            while (j < p.size() && std::isdigit(static_cast<unsigned char>(p[j]))) { b = b * 10 + static_cast<std::size_t>(p[j] - '0'); ++j; bdigits = true; if (b > 100000) break; }
        }
        if (!digits || j >= p.size() || p[j] != '}') continue;
        sum += comma ? (bdigits ? b : a) : a;
    }
    return sum > 100 || (p.size() > 2000 && sum > 20);
}

unsigned hs_flags(const PerlRegex& re) {
    // Prefilter: a superset of the matches (PCRE2 confirms). Multiline always: segments are
    // joined by '\n', so ^ and $ must also match at their edges.
    unsigned f = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | HS_FLAG_MULTILINE;
    if (re.i) f |= HS_FLAG_CASELESS;
    if (re.s) f |= HS_FLAG_DOTALL;
    return f;
}

std::string hs_pattern(const PerlRegex& re) { return re.x ? "(?x)" + re.pattern : re.pattern; }

}  // namespace

PatternSet::PatternSet() = default;
PatternSet::~PatternSet() {
    for (auto* db : dbs_) hs_free_database(db);
}
PatternSet::PatternSet(PatternSet&& o) noexcept { *this = std::move(o); }
PatternSet& PatternSet::operator=(PatternSet&& o) noexcept {
    if (this != &o) {
        for (auto* db : dbs_) hs_free_database(db);
        pcres_ = std::move(o.pcres_);
        sources_ = std::move(o.sources_);
        in_hs_ = std::move(o.in_hs_);
        pcre_only_ = std::move(o.pcre_only_);
        in_hs_count_ = o.in_hs_count_;
        dbs_ = std::exchange(o.dbs_, {});
    }
    return *this;
}

Result<std::size_t> PatternSet::add(const PerlRegex& re) {
    auto p = Pcre::compile(re);
    if (!p) return p.error();
    pcres_.push_back(std::move(*p));
    sources_.push_back(re);
    in_hs_.push_back(false);
    return pcres_.size() - 1;
}

namespace {

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// One vectorscan database for these patterns, from the cache when it holds it. A pattern that
// passes the check alone can still fail in a database (too large): the one the error names is
// dropped and the rest tried again (dropped ones stay on PCRE2).
hs_database_t* compile_chunk(std::vector<std::string>& pats, std::vector<unsigned>& flags, std::vector<unsigned>& ids,
                             const std::filesystem::path& cache_dir) {
    std::filesystem::path cache_file;
    if (!cache_dir.empty()) {
        std::uint64_t h = fnv1a(1469598103934665603ull, hs_version());
        for (std::size_t i = 0; i < pats.size(); ++i) {
            h = fnv1a(h, pats[i]);
            h = fnv1a(h, fmt::format("\x1f{}\x1f{}\x1e", flags[i], ids[i]));
        }
        cache_file = cache_dir / fmt::format("hs-{:016x}.db", h);
        std::ifstream in(cache_file, std::ios::binary);
        if (in) {
            std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            hs_database_t* db = nullptr;
            if (hs_deserialize_database(bytes.data(), bytes.size(), &db) == HS_SUCCESS) return db;
        }
    }
    for (int attempt = 0; attempt < 64 && !pats.empty(); ++attempt) {
        std::vector<const char*> cps;
        for (const auto& p : pats) cps.push_back(p.c_str());
        hs_compile_error_t* err = nullptr;
        hs_database_t* db = nullptr;
        hs_error_t rc = hs_compile_multi(cps.data(), flags.data(), ids.data(), static_cast<unsigned>(cps.size()),
                                         HS_MODE_BLOCK, nullptr, &db, &err);
        if (rc == HS_SUCCESS) {
            if (!cache_file.empty() && attempt == 0) {
                // A failed write only costs the next load a compile.
                char* bytes = nullptr;
                std::size_t len = 0;
                if (hs_serialize_database(db, &bytes, &len) == HS_SUCCESS) {
                    std::error_code ec;
                    std::filesystem::create_directories(cache_dir, ec);
                    auto tmp = cache_file;
                    tmp += fmt::format(".tmp{}", static_cast<long>(::getpid()));
                    {
                        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
                        out.write(bytes, static_cast<std::streamsize>(len));
                    }
                    std::filesystem::rename(tmp, cache_file, ec);
                    if (ec) std::filesystem::remove(tmp, ec);
                    std::free(bytes);
                }
            }
            return db;
        }
        int bad = err ? err->expression : -1;
        hs_free_compile_error(err);
        if (bad < 0 || static_cast<std::size_t>(bad) >= pats.size()) break;
        pats.erase(pats.begin() + bad);
        flags.erase(flags.begin() + bad);
        ids.erase(ids.begin() + bad);
    }
    pats.clear();
    ids.clear();
    return nullptr;
}

}  // namespace

bool PatternSet::grow_scratch(hs_scratch** proto) const {
    for (const auto* db : dbs_)
        if (hs_alloc_scratch(db, proto) != HS_SUCCESS) return false;
    return true;
}

Scratch::~Scratch() {
    if (proto_) hs_free_scratch(proto_);
}

bool Scratch::add(const PatternSet& set) { return set.grow_scratch(&proto_); }

hs_scratch* Scratch::for_this_thread(std::uint64_t generation) const {
    // One clone per thread of the prototype sized for every database of a rule set; a thread that
    // moves on to a newer rule set (a reload) clones that one's.
    struct Local {
        std::uint64_t generation = 0;
        hs_scratch_t* s = nullptr;
        ~Local() {
            if (s) hs_free_scratch(s);
        }
    };
    thread_local Local local;
    if (!proto_) return nullptr;
    if (local.s && local.generation == generation) return local.s;
    if (local.s) {
        hs_free_scratch(local.s);
        local.s = nullptr;
    }
    if (hs_clone_scratch(proto_, &local.s) != HS_SUCCESS) return nullptr;
    local.generation = generation;
    return local.s;
}

void PatternSet::build_pcre_only() {
    for (auto* db : dbs_) hs_free_database(db);
    dbs_.clear();
    in_hs_count_ = 0;
    pcre_only_.clear();
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        in_hs_[i] = false;
        pcre_only_.push_back(i);
    }
}

void PatternSet::build(const std::filesystem::path& cache_dir) {
    for (auto* db : dbs_) hs_free_database(db);
    dbs_.clear();
    std::vector<std::string> pats;
    std::vector<unsigned> flags, ids;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        in_hs_[i] = false;
        if (has_subject_anchor(sources_[i].pattern) || too_costly(sources_[i].pattern)) continue;
        std::string p = hs_pattern(sources_[i]);
        unsigned f = hs_flags(sources_[i]);
        hs_expr_info_t* info = nullptr;
        hs_compile_error_t* err = nullptr;
        if (hs_expression_info(p.c_str(), f, &info, &err) != HS_SUCCESS) {
            hs_free_compile_error(err);
            continue;
        }
        std::free(info);
        pats.push_back(std::move(p));
        flags.push_back(f);
        ids.push_back(static_cast<unsigned>(i));
    }
    // Compile time grows faster than linearly with the patterns in one prefilter database: a few
    // databases of kChunk patterns each compile in seconds where one of them all takes minutes,
    // and scanning a message a few times over costs far less than confirming with PCRE2.
    constexpr std::size_t kChunk = 64;
    for (std::size_t start = 0; start < pats.size(); start += kChunk) {
        std::size_t end = std::min(pats.size(), start + kChunk);
        std::vector<std::string> cp(pats.begin() + static_cast<std::ptrdiff_t>(start), pats.begin() + static_cast<std::ptrdiff_t>(end));
        std::vector<unsigned> cf(flags.begin() + static_cast<std::ptrdiff_t>(start), flags.begin() + static_cast<std::ptrdiff_t>(end));
        std::vector<unsigned> ci(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end));
        hs_database_t* db = compile_chunk(cp, cf, ci, cache_dir);
        if (!db) continue;
        dbs_.push_back(db);
        // patterns in the database: those left in ci (a cached database holds all of them)
        for (unsigned id : ci) in_hs_[id] = true;
    }
    in_hs_count_ = 0;
    pcre_only_.clear();
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (in_hs_[i]) ++in_hs_count_;
        else pcre_only_.push_back(i);
    }
}

void PatternSet::scan(const ScanText& text, const std::vector<int>& max_count, std::vector<int>& counts,
                      hs_scratch* scratch) const {
    counts.assign(pcres_.size(), 0);
    if (pcres_.empty() || text.size() == 0) return;
    std::vector<std::size_t> candidates = pcre_only_;
    if (!dbs_.empty()) {
        std::vector<char> seen(pcres_.size(), 0);
        auto on_match = [](unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) -> int {
            static_cast<std::vector<char>*>(ctx)->at(id) = 1;
            return 0;
        };
        const std::string& j = text.joined();
        for (const hs_database_t* db : dbs_) {
            if (!scratch ||
                hs_scan(db, j.data(), static_cast<unsigned>(std::min<std::size_t>(j.size(), 0xFFFFFFFFu)), 0, scratch,
                        on_match, &seen) != HS_SUCCESS) {
                // No scratch (out of memory): confirm everything with PCRE2 rather than miss a hit.
                for (std::size_t i = 0; i < pcres_.size(); ++i)
                    if (in_hs_[i]) seen[i] = 1;
            }
        }
        for (std::size_t i = 0; i < seen.size(); ++i)
            if (seen[i]) candidates.push_back(i);
    }
    for (std::size_t i : candidates) {
        int max = i < max_count.size() ? max_count[i] : 1;
        if (max < 1) max = 1;
        int n = 0;
        for (std::size_t s = 0; s < text.size() && n < max; ++s) {
            if (max == 1) {
                if (pcres_[i]->search(text.segment(s))) n = 1;
            } else {
                n += pcres_[i]->count(text.segment(s), max - n);
            }
        }
        counts[i] = n;
    }
}

}  // namespace pmx::spam::rules::detail
