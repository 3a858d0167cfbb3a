// A quarantined message as JSON: the one object `pmx quarantine list|show --json` prints and the
// RPC's quarantine methods return (web/rpc_quarantine.cpp), so the two can never differ.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "store/quarantine_store.hpp"

namespace pmx::web {

// {"id","time_us","time","queue_id","client_ip","sender","recipients","subject","reason","score",
//  "size","node","rule","file","held","recipient_states":[{"recipient","released","released_us",
//  "released_by","released_to"}]}; time as "YYYY-MM-DD HH:MM:SS UTC", score null when none.
nlohmann::json quarantined_message_json(const store::QuarantinedMessage& m);

// The text of a JSON value for output: text from mail need not be valid UTF-8 (replaced, never thrown on).
std::string json_text(const nlohmann::json& j);

}  // namespace pmx::web
