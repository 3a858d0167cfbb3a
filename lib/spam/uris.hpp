// URIs in a message's text, the way SpamAssassin's `uri` rules and URI blocklists see them.
//
// Stable interface (the DNSBL part calls uri_hosts for URI blocklists; the rules engine runs `uri`
// rules over extract_uris): keep these two signatures.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"

namespace pmx::spam {

// Every URI found in the message, in order of appearance, without duplicates:
//  - from HTML (href/src/action/background... attributes of text/html parts, raw HTML),
//  - from text (plain text and the text of HTML): "scheme://...", "www.host...", "ftp.host...",
//    "mailto:..." and bare user@host.tld addresses (as "mailto:user@host.tld").
// Schemeless "www.x.com/path" becomes "http://www.x.com/path" (SpamAssassin adds the same).
// Capped at max_uris (what a sender controls has a cap).
std::vector<std::string> extract_uris(const mail::ParsedMessage& message, std::size_t max_uris = 2000);

// Lowercased host names (no port, no userinfo, no trailing dot) of the http/https/ftp URIs and
// the domains of mailto: URIs, without duplicates, in order of first appearance. IP literals are
// kept as written ("192.0.2.1"). Capped at max_hosts.
std::vector<std::string> uri_hosts(const mail::ParsedMessage& message, std::size_t max_hosts = 200);
// The same from URIs already extracted (saves a second extraction when both are needed).
std::vector<std::string> uri_hosts(const std::vector<std::string>& uris, std::size_t max_hosts = 200);

// The host of one URI as uri_hosts gives it, "" when it has none.
std::string uri_host(std::string_view uri);

}  // namespace pmx::spam
