#include "policy/notice.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace pmx::policy {

const std::string_view default_notice_template =
    "Subject: [pmx] {action}: message from {sender}\n"
    "\n"
    "The mail gateway {node} acted on a message (rule \"{rule}\").\n"
    "\n"
    "What happened: {action}\n"
    "Sender:        {sender}\n"
    "Recipients:    {recipients}\n"
    "Subject:       {subject}\n"
    "Viruses:       {virus_name}\n"
    "Removed:       {removed}\n"
    "Queue id:      {queue_id}\n";

namespace {

std::string clean(std::string_view s, std::size_t max = 2000) {
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
    }
    return out;
}

std::string expand(std::string_view text, const NoticeFacts& f) {
    const std::array<std::pair<std::string_view, const std::string*>, 12> values{{
        {"sender", &f.sender},
        {"recipients", &f.recipients},
        {"recipient", &f.recipient},
        {"subject", &f.subject},
        {"virus_name", &f.virus_names},
        {"queue_id", &f.queue_id},
        {"client_ip", &f.client_ip},
        {"rule", &f.rule},
        {"action", &f.action},
        {"removed", &f.removed},
        {"quarantine_id", &f.quarantine_id},
        {"node", &f.node},
    }};
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        auto open = text.find('{', i);
        if (open == std::string_view::npos) break;
        auto close = text.find('}', open);
        if (close == std::string_view::npos) break;
        out.append(text.substr(i, open - i));
        auto name = text.substr(open + 1, close - open - 1);
        auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == name; });
        if (it == values.end()) {
            out.append(text.substr(open, close - open + 1));
        } else {
            const std::string& v = *it->second;
            out += v.empty() ? std::string("-") : clean(v);
        }
        i = close + 1;
    }
    out.append(text.substr(std::min(i, text.size())));
    return out;
}

// RFC 2047 for a header value that is not plain ASCII.
std::string header_text(std::string_view s) {
    if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x80; })) return std::string(s);
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    // Encoded words of at most 45 input bytes, cut between UTF-8 characters.
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t n = std::min<std::size_t>(45, s.size() - i);
        while (n > 0 && i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) --n;
        if (n == 0) n = std::min<std::size_t>(45, s.size() - i);
        std::string word;
        for (std::size_t k = 0; k < n; k += 3) {
            unsigned v = static_cast<unsigned char>(s[i + k]) << 16;
            if (k + 1 < n) v |= static_cast<unsigned char>(s[i + k + 1]) << 8;
            if (k + 2 < n) v |= static_cast<unsigned char>(s[i + k + 2]);
            word += b64[(v >> 18) & 63];
            word += b64[(v >> 12) & 63];
            word += k + 1 < n ? b64[(v >> 6) & 63] : '=';
            word += k + 2 < n ? b64[v & 63] : '=';
        }
        out += (out.empty() ? "" : "\n ") + fmt::format("=?UTF-8?B?{}?=", word);
        i += n;
    }
    return out;
}

}  // namespace

std::string render_notice(std::string_view template_text, const NoticeFacts& f) {
    std::string subject = "[pmx] notice about a message from " + (f.sender.empty() ? std::string("<>") : f.sender);
    std::string_view body = template_text;
    // Leading "Name: value" lines up to a blank line are headers; only Subject is taken.
    if (auto blank = template_text.find("\n\n"); blank != std::string_view::npos) {
        std::string_view head = template_text.substr(0, blank);
        bool all_headers = true;
        std::string found;
        std::size_t pos = 0;
        while (pos <= head.size()) {
            auto nl = head.find('\n', pos);
            std::string_view line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            auto colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0 || line.find(' ') < colon) {
                all_headers = false;
                break;
            }
            std::string name(line.substr(0, colon));
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            if (name == "subject") {
                auto v = line.substr(colon + 1);
                while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
                found = std::string(v);
            }
            if (nl == std::string_view::npos) break;
            pos = nl + 1;
        }
        if (all_headers) {
            if (!found.empty()) subject = clean(expand(found, f), 300);
            body = template_text.substr(blank + 2);
        }
    }
    std::string out;
    out += "From: " + clean(f.from, 300) + "\n";
    out += "To: " + clean(f.to, 300) + "\n";
    out += "Subject: " + header_text(subject) + "\n";
    if (!f.date.empty()) out += "Date: " + f.date + "\n";
    if (!f.message_id.empty()) out += "Message-ID: " + f.message_id + "\n";
    out += "MIME-Version: 1.0\n";
    out += "Content-Type: text/plain; charset=\"utf-8\"\n";
    out += "Content-Transfer-Encoding: 8bit\n";
    out += "Auto-Submitted: auto-generated\n";  // RFC 3834: no auto-reply to it
    out += "\n";
    std::string text = expand(body, f);
    // CR or CRLF from an edited template: LF only.
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
    if (!text.empty() && text.back() != '\n') text += '\n';
    out += text;
    return out;
}

}  // namespace pmx::policy
