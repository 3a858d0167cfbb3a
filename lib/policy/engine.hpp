// The policy engine: policy.toml compiled once into an immutable Policy, then one cheap
// evaluation per message giving one verdict per recipient (decision.hpp). The file format is
// described in share/policy.toml and pmx-policy(5); a summary:
//
//   [groups]
//   sales = ["alice@example.com", "@sales.example.com"]
//
//   [[rule]]
//   name = "probable spam"                 # required, unique; shown in traces and logs
//   for  = "each-recipient"                # or "message"; by default each-recipient when a
//                                          # condition depends on the recipient
//   when = { spam_score_at_least = 5 }     # all must hold; any = [{..},{..}], not = {..}
//   then = ["tag_subject:[SPAM]"]          # actions, in order; a final action ends the run
//
// Rules run top to bottom. For each recipient, the first rule with a final action (accept,
// quarantine, reject, tempfail, discard, redirect) decides; other actions (add_header,
// replace_header, remove_header, tag_subject, quarantine_copy, copy_to, notify, remove_infected)
// add up on the way.
// A recipient no rule decides is accepted.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "mail/message.hpp"
#include "policy/address_match.hpp"
#include "policy/decision.hpp"
#include "policy/lists.hpp"
#include "util/result.hpp"

namespace pmx::policy {

// What is "internal": general.internal_networks and general.internal_domains, compiled.
// A sender is internal when the client is in an internal network, when it authenticated
// (SMTP AUTH), or when there is no client address (local submission).
// A recipient is internal when its domain is one of the internal domains.
struct Site {
    std::vector<Cidr> internal_networks;
    std::vector<DomainPattern> internal_domains;

    bool internal_client(std::string_view client_ip, std::string_view auth_user) const;
    bool internal_address(std::string_view address) const;
};
// Errors list every bad entry: "general.internal_networks: \"10.0.0/8\" is not an IP address or CIDR range".
Result<Site> make_site(const std::vector<std::string>& internal_networks,
                       const std::vector<std::string>& internal_domains);
Result<Site> site_from_config(const config::Snapshot& snapshot);

struct CompiledPolicy;  // policy_compiled.hpp, private to the engine

// An immutable compiled policy; copies share it, threads may evaluate it at once.
class Policy {
public:
    const std::string& file() const;                     // as given to parse_policy
    std::size_t rule_count() const;                      // rules that run (enabled = false ones excluded)
    std::size_t disabled_count() const;
    std::vector<std::string> rule_names() const;         // in order
    // "file:line:column: rule "NAME": warning: reason", for problems that do not stop loading.
    const std::vector<std::string>& warnings() const;
    // True when a condition needs general.internal_domains (internal_recipient, direction).
    bool uses_internal_domains() const;

    const CompiledPolicy& compiled() const { return *impl_; }
    explicit Policy(std::shared_ptr<const CompiledPolicy> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<const CompiledPolicy> impl_;
};

// Compiles policy text. On error, every problem found, one per line, in file order:
// "file:line:column: rule "NAME": reason" (with "did you mean" for misspelt names).
Result<Policy> parse_policy(std::string_view text, std::string_view filename);
Result<Policy> load_policy_file(const std::filesystem::path& file);

// The policy file in effect: config_dir/policy.toml when it exists, else vendor_dir/policy.toml.
std::filesystem::path policy_path(const config::Layout& layout);
Result<Policy> load_policy(const config::Layout& layout);

struct EvalOptions {
    // Fill Decision::trace: every rule considered, per recipient when per-recipient, with why.
    // Off, evaluation formats no text except what the actions need.
    bool trace = true;
};

// One evaluation: never throws for anything in the message; a list lookup that throws propagates
// (the caller maps it to milter.on_internal_error).
Decision evaluate(const Policy& policy, const Envelope& envelope, const mail::ParsedMessage& message,
                  const ScanFacts& scan, const ListLookup& lists, const Site& site, const EvalOptions& options = {});

}  // namespace pmx::policy
