#include "ipblock/policy_protocol.hpp"

#include <fmt/format.h>

namespace pmx::ipblock {

PolicyParser::Status PolicyParser::next(PolicyRequest& out) {
    if (!error_.empty()) return Status::Error;
    PolicyRequest request;
    std::size_t pos = 0;
    for (;;) {
        std::size_t nl = buffer_.find('\n', pos);
        if (nl == std::string::npos) {
            if (buffer_.size() - pos > limits_.max_line) error_ = "attribute line too long";
            else if (buffer_.size() > limits_.max_request_bytes) error_ = "request too large";
            return error_.empty() ? Status::NeedMore : Status::Error;
        }
        std::string_view line(buffer_.data() + pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (nl - pos > limits_.max_line) { error_ = "attribute line too long"; return Status::Error; }
        pos = nl + 1;
        if (pos > limits_.max_request_bytes) { error_ = "request too large"; return Status::Error; }
        if (line.empty()) {
            buffer_.erase(0, pos);
            out = std::move(request);
            return Status::Request;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            error_ = fmt::format("malformed attribute line (no name=value): {:.40}", line);
            return Status::Error;
        }
        if (request.size() >= limits_.max_attributes) { error_ = "too many attributes"; return Status::Error; }
        request[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
}

std::string format_policy_reply(std::string_view action) { return fmt::format("action={}\n\n", action); }

}  // namespace pmx::ipblock
