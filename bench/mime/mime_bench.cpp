// MIME parser throughput: parse_message() on generated messages, side by side with a baseline
// that only finds every line end of the same bytes (the floor for any parser that reads lines).
//   bench/mime/run.sh [seconds-per-case]   (builds this file with lib/mail and runs it)
// Prints MB/s per case and the ratio parser/baseline. Also: the cost of iconv_open() against a
// cached converter, which decides whether charset.cpp's per-thread cache is worth having.
#include <iconv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mail/mime.hpp"

using namespace pmx::mail;
using Clock = std::chrono::steady_clock;

namespace {

std::string base64(std::size_t bytes) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve(bytes * 4 / 3 + bytes / 57 * 2 + 8);
    std::uint32_t x = 1;
    for (std::size_t i = 0; i < bytes; i += 3) {
        x = x * 1664525u + 1013904223u;
        out += t[(x >> 8) & 63];
        out += t[(x >> 14) & 63];
        out += t[(x >> 20) & 63];
        out += t[(x >> 26) & 63];
        if ((i / 3 + 1) % 19 == 0) out += "\r\n";  // 76 characters a line
    }
    return out + "\r\n";
}

std::string words(std::size_t bytes, bool html) {
    static const char* w[] = {"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
                              "do", "eiusmod", "tempor", "caf\xC3\xA9", "na\xC3\xAFve", "&amp;", "offer"};
    std::string out;
    std::uint32_t x = 7;
    std::size_t col = 0;
    while (out.size() < bytes) {
        x = x * 1664525u + 1013904223u;
        std::string_view word = w[(x >> 16) % 16];
        if (!html && word == "&amp;") word = "&";
        if (html && (x >> 8) % 11 == 0) out += "<b>";
        out += word;
        if (html && (x >> 8) % 11 == 0) out += "</b>";
        col += word.size() + 1;
        if (col > 70) {
            out += html && (x >> 4) % 5 == 0 ? "<br>\r\n" : "\r\n";
            col = 0;
        } else {
            out += ' ';
        }
    }
    return out;
}

std::string message(std::size_t text_bytes, std::size_t attachment_bytes) {
    std::string m =
        "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.com; Tue, 11 Jun 2024 10:00:00 +0200\r\n"
        "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\nTo: b@example.com\r\nSubject: =?UTF-8?B?UmVwb3J0IMO8YmVy?= Q2\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_mixed\"\r\n\r\n"
        "--=_mixed\r\nContent-Type: multipart/alternative; boundary=\"=_alt\"\r\n\r\n"
        "--=_alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
        words(text_bytes / 2, false) +
        "\r\n--=_alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + words(text_bytes / 2, true) +
        "</p></body></html>\r\n--=_alt--\r\n";
    if (attachment_bytes)
        m += "--=_mixed\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; "
             "filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
             base64(attachment_bytes);
    return m + "--=_mixed--\r\n";
}

// Best time per run over batches of about 20 ms: the machine is shared, the minimum is the
// number that says something about the code.
template <class F>
double seconds_per_run(F&& f, double budget) {
    f();  // warm up
    double best = 1e9;
    auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < budget) {
        int runs = 0;
        auto batch = Clock::now();
        double elapsed = 0;
        do {
            f();
            ++runs;
            elapsed = std::chrono::duration<double>(Clock::now() - batch).count();
        } while (elapsed < 0.02);
        best = std::min(best, elapsed / runs);
    }
    return best;
}

std::size_t sink;

void run_case(const char* name, const std::string& raw, double budget) {
    double parse = seconds_per_run([&] { sink += parse_message(raw).parts.size(); }, budget);
    double lines = seconds_per_run(
        [&] {
            const char* p = raw.data();
            const char* end = p + raw.size();
            std::size_t n = 0;
            while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
                p = static_cast<const char*>(nl) + 1;
                ++n;
            }
            sink += n;
        },
        budget);
    double mb = static_cast<double>(raw.size()) / 1e6;
    std::printf("%-34s %9.1f KiB  parse %8.3f ms %8.1f MB/s   baseline %8.1f MB/s   ratio %.2f\n", name,
                static_cast<double>(raw.size()) / 1024, parse * 1e3, mb / parse, mb / lines, lines / parse);
}

}  // namespace

int main(int argc, char** argv) {
    double budget = argc > 1 ? std::atof(argv[1]) : 1.0;
    std::string small = message(100 * 1024 - 2000, 0);
    std::string large = message(200 * 1024, 9 * 1024 * 1024 * 3 / 4);  // base64 of the attachment: ~9 MiB
    if (large.size() < 10 * 1024 * 1024)  // top up to 10 MiB with text before the attachment
        large.insert(large.find("\r\n--=_alt--"), words(10 * 1024 * 1024 - large.size(), false).substr(0, 10 * 1024 * 1024 - large.size()));
    run_case("100 KiB text+html", small, budget);
    run_case("10 MiB, 9 MiB base64 attachment", large, budget);

    // iconv_open() per conversion against the cached converter to_utf8() uses.
    std::string koi = "\xF0\xD2\xC9\xD7\xC5\xD4, \xCD\xC9\xD2";  // "Привет, мир"
    double cached = seconds_per_run([&] { sink += to_utf8(koi, "koi8-r").size(); }, budget / 2);
    double opened = seconds_per_run(
        [&] {
            iconv_t cd = iconv_open("UTF-8", "KOI8-R");
            char out[64];
            char* in = koi.data();
            std::size_t in_left = koi.size(), out_left = sizeof out;
            char* o = out;
            iconv(cd, &in, &in_left, &o, &out_left);
            iconv_close(cd);
            sink += static_cast<std::size_t>(o - out);
        },
        budget / 2);
    std::printf("short koi8-r conversion: cached converter %.2f us, iconv_open each time %.2f us (%.1fx)\n",
                cached * 1e6, opened * 1e6, opened / cached);
    return sink == 42 ? 1 : 0;
}
