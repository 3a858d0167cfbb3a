// The key table in parts, one file per section (keys_SECTION.cpp), so each feature keeps its
// keys beside the others of its kind. schema.cpp joins them in the order declared here.
#pragma once

#include <cstdint>
#include <vector>

#include "config/schema.hpp"

namespace pmx::config {

inline constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

void add_general_keys(std::vector<KeySpec>& keys);  // general.*, database.*, quarantine.*
void add_milter_keys(std::vector<KeySpec>& keys);   // milter.*
void add_ipblock_keys(std::vector<KeySpec>& keys);  // ipblock.*
void add_queue_keys(std::vector<KeySpec>& keys);    // queue.*
void add_av_keys(std::vector<KeySpec>& keys);       // av.*
void add_spam_keys(std::vector<KeySpec>& keys);     // spam.*: rules and the score
void add_bayes_keys(std::vector<KeySpec>& keys);    // bayes.*
void add_dnsbl_keys(std::vector<KeySpec>& keys);    // dnsbl.*
void add_jobs_keys(std::vector<KeySpec>& keys);     // scheduler.*, jobs.*
void add_digest_keys(std::vector<KeySpec>& keys);   // digest.*
void add_httpd_keys(std::vector<KeySpec>& keys);    // httpd.*

}  // namespace pmx::config
