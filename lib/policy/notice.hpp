// The text of a notice for the policy's notify action: a template with {placeholders} into a
// complete text/plain message. The milter fills NoticeFacts and spools the result.
//
// A template (share/notify/NAME.txt) may start with header lines ("Subject: ...") and a blank
// line; the rest is the body. Placeholders: {sender} {recipients} {recipient} {subject}
// {virus_name} {queue_id} {client_ip} {rule} {action} {removed} {quarantine_id} {node}; an
// unknown one is left as written. Values lose control characters (they come from the sender).
#pragma once

#include <string>
#include <string_view>

namespace pmx::policy {

struct NoticeFacts {
    std::string from, to, date, message_id;  // headers of the notice
    std::string sender, recipients, recipient, subject, virus_names, queue_id, client_ip, rule, action, removed,
        quarantine_id, node;
};

// The built-in template, used when no file of that name exists.
extern const std::string_view default_notice_template;

// Headers and body, LF line ends.
std::string render_notice(std::string_view template_text, const NoticeFacts& facts);

}  // namespace pmx::policy
