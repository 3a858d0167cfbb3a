// What pmx-milter keeps per SMTP connection and per message (hung on the libmilter handle).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "message_buffer.hpp"
#include "policy/decision.hpp"
#include "runtime.hpp"

namespace pmx::milter {

struct MessageContext {
    explicit MessageContext(std::shared_ptr<const Runtime> rt)
        : runtime(std::move(rt)), buffer(static_cast<std::size_t>(runtime->config->integer("milter.spill_bytes"))) {}

    std::shared_ptr<const Runtime> runtime;  // the snapshot this message started with, kept to its end
    policy::Envelope envelope;
    MessageBuffer buffer;
    std::size_t header_count = 0;
    std::map<std::string, int> header_occurrences;  // lowercased name → count, for removing every copy
    std::optional<std::string> subject_raw;         // first Subject value as sent, for tagging
    std::string message_id;                         // first Message-ID value, trimmed
    std::optional<std::string> reinjection_stamp;   // first X-PMX-Reinjected value (reinjected.hpp)
    std::size_t recipients_refused = 0;
    std::optional<std::string> internal_error;  // set when something failed before end of message
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

struct ConnectionContext {
    // Negotiated: the connect step answers (milter.ipblock_at_connect), so it is not SMFIP_NR_CONN.
    bool check_at_connect = false;
    std::string client_ip;
    std::string client_hostname;
    std::string helo;
    std::unique_ptr<MessageContext> message;
};

}  // namespace pmx::milter
