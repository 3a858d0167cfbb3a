// CPU time of the policy alone: the vendor default policy evaluated on a parsed message,
// against the baseline of parsing that message (the work the milter does anyway), same run.
//   build/bench/pmx-bench-policy [MESSAGE.eml] [ITERATIONS]
#include <time.h>

#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "config/loader.hpp"
#include "mail/mime.hpp"
#include "policy/engine.hpp"
#include "policy/memory_lists.hpp"
#include "util/atomic_file.hpp"

namespace {
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const char* kSample =
    "From: Alice <alice@partner.test>\r\nTo: bob@example.test, carol@example.test\r\n"
    "Subject: =?UTF-8?Q?Quarterly_r=C3=A9sum=C3=A9?=\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, the numbers are attached.\r\n"
    "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>Bob</b>, the numbers are attached.</p>\r\n"
    "--b1--\r\n";
}  // namespace

int main(int argc, char** argv) {
    std::string raw = kSample;
    if (argc > 1) {
        auto r = pmx::read_file(argv[1]);
        if (!r) { fmt::print(stderr, "{}\n", r.error().message); return 1; }
        raw = *r;
    }
    int iterations = argc > 2 ? std::stoi(argv[2]) : 200000;
    auto policy = pmx::policy::load_policy_file(std::filesystem::path(PMX_SOURCE_ROOT) / "share/policy.toml");
    if (!policy) { fmt::print(stderr, "{}\n", policy.error().message); return 1; }
    auto site = pmx::policy::make_site({"127.0.0.0/8", "10.0.0.0/8"}, {"example.test"});
    if (!site) { fmt::print(stderr, "{}\n", site.error().message); return 1; }
    pmx::policy::MemoryLists lists;
    (void)lists.add_sender(pmx::policy::ListKind::Allow, "", "friend@partner.test");
    (void)lists.add_sender(pmx::policy::ListKind::Block, "", "*@spam.test");
    pmx::policy::Envelope env;
    env.sender = "alice@partner.test";
    env.recipients = {"bob@example.test", "carol@example.test"};
    env.client_ip = "192.0.2.10";
    pmx::policy::ScanFacts facts;
    facts.spam_score = 6.1;

    double t0 = cpu_seconds();
    std::size_t sink = 0;
    for (int i = 0; i < iterations; ++i) sink += pmx::mail::parse_message(raw).parts.size();
    double parse = (cpu_seconds() - t0) / iterations * 1e6;

    auto message = pmx::mail::parse_message(raw);
    t0 = cpu_seconds();
    for (int i = 0; i < iterations; ++i)
        sink += pmx::policy::evaluate(*policy, env, message, facts, lists, *site, {.trace = false}).recipients.size();
    double eval = (cpu_seconds() - t0) / iterations * 1e6;

    fmt::print("message: {} bytes, 2 recipients, vendor default policy ({} rules), {} iterations\n", raw.size(),
               policy->rule_count(), iterations);
    fmt::print("baseline  MIME parse        {:8.2f} us/message\n", parse);
    fmt::print("policy    evaluate          {:8.2f} us/message\n", eval);
    fmt::print("ratio     policy / parse    {:8.2f}\n", eval / parse);
    return sink == 0;  // keeps the loops from being optimised away
}
