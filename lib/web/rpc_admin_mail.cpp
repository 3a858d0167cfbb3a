// Admin RPC: the Queue Runner's queue (pmx queue), the IP Blocker (pmx ipblock), the message log
// (pmx log), reports (pmx report; also for group admins with the right reports) and the policy
// (pmx policy check/test; also for group admins with the right policy).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ipblock/address.hpp"
#include "queue/spool.hpp"
#include "report/reports.hpp"
#include "util/atomic_file.hpp"
#include "web/rpc_admin.hpp"

namespace pmx::web::admin {

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- queue -------------------------------------------------------------------------------------

Checked<std::vector<std::string>> entry_ids(const Call& c) {
    PMX_TRY(ids, string_list(c, "ids", true, 500, 64));
    for (const auto& id : ids)
        if (!queue::valid_entry_id(id)) return invalid(fmt::format("ids: \"{}\" is not a queue entry id", id));
    return ids;
}

RpcResult queue_list(const Call& c) {
    PMX_CHECK(only_params(c, {"state", "all"}));
    PMX_TRY(state, opt_string(c, "state", 16));
    PMX_TRY(all, opt_bool(c, "all"));
    Run r{{"queue", "list"}};
    if (state) {
        if (!queue::parse_state(*state))
            return invalid("state: expected incoming, active, deferred, failed or sent");
        r.args.push_back("--state=" + *state);
    }
    if (all.value_or(false)) r.args.emplace_back("--all");
    return run_cli(c, r);
}

RpcResult queue_show(const Call& c) {
    PMX_CHECK(only_params(c, {"id", "message"}));
    PMX_TRY(id, req_string(c, "id", 64));
    PMX_TRY(message, opt_bool(c, "message"));
    if (!queue::valid_entry_id(id)) return invalid(fmt::format("id: \"{}\" is not a queue entry id", id));
    Run r{{"queue", "show"}};
    if (message.value_or(false)) r.args.emplace_back("--message");
    r.args.insert(r.args.end(), {"--", id});
    return run_cli(c, r);
}

RpcResult queue_flush(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    return run_cli(c, Run{{"queue", "flush"}, 30s, {0}, true, true});
}

// retry and delete answer per id; exit 1 (some failed) still carries that answer.
RpcResult queue_each(const Call& c, const char* verb) {
    PMX_CHECK(only_params(c, {"ids"}));
    PMX_TRY(ids, entry_ids(c));
    Run r{{"queue", verb, "--"}, 60s, {0, 1}, true, true};
    r.args.insert(r.args.end(), ids.begin(), ids.end());
    return run_cli(c, r);
}

// ---- ipblock -----------------------------------------------------------------------------------

Checked<std::string> network_param(const Call& c) {
    PMX_TRY(text, req_string(c, "address", 64));
    auto n = ipblock::parse_network(text);
    if (!n) return invalid(fmt::format("address: {}", n.error().message));
    return ipblock::format_network(*n);
}

bool valid_ttl(const std::string& t) {
    std::size_t i = 0;
    while (i < t.size() && i < 12 && t[i] >= '0' && t[i] <= '9') ++i;
    auto unit = std::string_view(t).substr(i);
    return i > 0 && (unit.empty() || unit == "s" || unit == "m" || unit == "min" || unit == "h" || unit == "d" || unit == "w");
}

RpcResult ipblock_list(const Call& c) {
    PMX_CHECK(only_params(c, {"all"}));
    PMX_TRY(all, opt_bool(c, "all"));
    Run r{{"ipblock", "list"}};
    if (all.value_or(false)) r.args.emplace_back("--all");
    return run_cli(c, r);
}

RpcResult ipblock_add(const Call& c) {
    PMX_CHECK(only_params(c, {"address", "ttl", "reason"}));
    PMX_TRY(network, network_param(c));
    PMX_TRY(ttl, opt_string(c, "ttl", 16));
    PMX_TRY(reason, opt_string(c, "reason", 200));
    Run r{{"ipblock", "add"}, 30s, {0}, true, true};
    if (ttl && !ttl->empty()) {
        if (!valid_ttl(*ttl)) return invalid("ttl: expected a number with an optional unit s, m, h, d or w");
        r.args.push_back("--ttl=" + *ttl);
    }
    if (reason && !reason->empty()) r.args.push_back("--reason=" + *reason);
    r.args.insert(r.args.end(), {"--", network});
    return run_cli(c, r);
}

RpcResult ipblock_remove(const Call& c) {
    PMX_CHECK(only_params(c, {"address"}));
    PMX_TRY(network, network_param(c));
    return run_cli(c, Run{{"ipblock", "remove", "--", network}, 30s, {0}, true, true});
}

// ---- log and reports ---------------------------------------------------------------------------

RpcResult log_search(const Call& c) {
    PMX_CHECK(only_params(c, {"sender", "recipient", "verdict", "since", "until", "limit", "ip"}));
    PMX_TRY(sender, opt_string(c, "sender", 320));
    PMX_TRY(recipient, opt_string(c, "recipient", 320));
    PMX_TRY(verdict, opt_string(c, "verdict", 16));
    PMX_TRY(ip, opt_string(c, "ip", 64));
    PMX_TRY(since, opt_string(c, "since", 64));
    PMX_TRY(until, opt_string(c, "until", 64));
    PMX_TRY(limit, opt_int(c, "limit", 1, 5000));
    Run r{{"log"}};
    if (sender && !sender->empty()) r.args.push_back("--sender=" + *sender);
    if (recipient && !recipient->empty()) r.args.push_back("--recipient=" + *recipient);
    if (verdict) {
        static constexpr std::string_view verdicts[] = {"accept", "quarantine", "reject", "tempfail", "discard"};
        if (std::find(std::begin(verdicts), std::end(verdicts), *verdict) == std::end(verdicts))
            return invalid("verdict: expected accept, quarantine, reject, tempfail or discard");
        r.args.push_back("--verdict=" + *verdict);
    }
    if (ip && !ip->empty()) {
        if (!ipblock::parse_address(*ip)) return invalid(fmt::format("ip: \"{}\" is not an IP address", *ip));
        r.args.push_back("--ip=" + *ip);
    }
    if (since && !since->empty()) {
        PMX_CHECK(check_time("since", *since));
        r.args.push_back("--since=" + *since);
    }
    if (until && !until->empty()) {
        PMX_CHECK(check_time("until", *until));
        r.args.push_back("--until=" + *until);
    }
    r.args.push_back(fmt::format("--limit={}", limit.value_or(50)));
    return run_cli(c, r);
}

RpcResult reports_list(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    return run_cli(c, Run{{"report", "list"}});
}

RpcResult reports_get(const Call& c) {
    PMX_CHECK(only_params(c, {"name", "from", "to", "by", "limit", "node"}));
    PMX_TRY(name, req_string(c, "name", 64));
    PMX_TRY(from, opt_string(c, "from", 64));
    PMX_TRY(to, opt_string(c, "to", 64));
    PMX_TRY(by, opt_string(c, "by", 8));
    PMX_TRY(limit, opt_int(c, "limit", 1, 100000));
    PMX_TRY(node, opt_string(c, "node", 255));
    const auto* info = report::find_report(name);
    if (!info) return invalid(fmt::format("name: no report named \"{}\" (see reports.list)", name));
    Run r{{"report", std::string(info->name)}, 60s};
    if (from && !from->empty()) {
        PMX_CHECK(check_time("from", *from));
        r.args.push_back("--from=" + *from);
    }
    if (to && !to->empty()) {
        PMX_CHECK(check_time("to", *to));
        r.args.push_back("--to=" + *to);
    }
    if (by) {
        if (*by != "hour" && *by != "day") return invalid("by: expected hour or day");
        r.args.push_back("--by=" + *by);
    }
    if (limit) {
        if (info->kind != report::Kind::Top) return invalid(fmt::format("limit: report {} has no limit", info->name));
        r.args.push_back(fmt::format("--limit={}", *limit));
    }
    if (node && !node->empty()) r.args.push_back("--node=" + *node);
    return run_cli(c, r);
}

// ---- policy ------------------------------------------------------------------------------------

constexpr std::size_t kMaxPolicyText = 1u << 20;
constexpr std::size_t kMaxTestMessage = 10u << 20;

RpcResult policy_show(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    auto got = run_cli(c, Run{{"policy", "check"}});
    auto* j = std::get_if<Json>(&got);
    if (!j) return got;
    // The rules themselves, as the file says them (the page shows them read-only).
    if (j->is_object() && (*j)["file"].is_string()) {
        auto text = read_file((*j)["file"].get<std::string>());
        if (!text) (*j)["text"] = nullptr;
        else if (text->size() > kMaxPolicyText) (*j)["text"] = text->substr(0, kMaxPolicyText);
        else (*j)["text"] = std::move(*text);
    }
    return got;
}

// A mail address for the envelope ("<>" only where allowed): local@domain, printable, no spaces.
bool plain_address(const std::string& a) {
    auto at = a.rfind('@');
    return a.size() <= 320 && at != std::string::npos && at > 0 && at + 1 < a.size() && a.front() != '-' &&
           a.find_first_of(" \t<>,;\"\\") == std::string::npos && !has_control(a);
}

// The message, written where only this process can read it, removed when done.
class TempMessage {
public:
    static Result<TempMessage> write(const std::string& text) {
        auto pattern = (fs::temp_directory_path() / "pmx-policy-test-XXXXXX.eml").string();
        int fd = ::mkstemps(pattern.data(), 4);  // mode 0600
        if (fd < 0) return Error{fmt::format("Failed to create a temporary file: {}", std::strerror(errno))};
        TempMessage t(pattern);
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int e = errno;
                ::close(fd);
                return Error{fmt::format("Failed to write {}: {}", pattern, std::strerror(e))};
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
        return t;
    }
    TempMessage(TempMessage&& o) noexcept : path_(std::exchange(o.path_, {})) {}
    TempMessage& operator=(TempMessage&&) = delete;
    ~TempMessage() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

private:
    explicit TempMessage(std::string p) : path_(std::move(p)) {}
    std::string path_;
};

RpcResult policy_test(const Call& c) {
    PMX_CHECK(only_params(c, {"message", "sender", "recipients", "client_ip"}));
    auto it = c.params.find("message");
    if (it == c.params.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
        return invalid("message: required (the message as RFC 5322 text)");
    const auto& message = it->get_ref<const std::string&>();
    if (message.size() > kMaxTestMessage) return invalid(fmt::format("message: larger than {} MiB", kMaxTestMessage >> 20));
    PMX_TRY(sender, opt_string(c, "sender", 320));
    PMX_TRY(recipients, string_list(c, "recipients", false, 100, 320));
    PMX_TRY(client_ip, opt_string(c, "client_ip", 64));

    Run r{{"policy", "test"}};
    if (sender) {
        if (*sender != "<>" && !plain_address(*sender))
            return invalid(fmt::format("sender: \"{}\" is not a mail address (\"<>\" for the null sender)", *sender));
        r.args.push_back("--from=" + *sender);
    }
    for (const auto& rcpt : recipients) {
        if (!plain_address(rcpt)) return invalid(fmt::format("recipients: \"{}\" is not a mail address", rcpt));
        r.args.push_back("--to=" + rcpt);
    }
    // A group admin tries the policy on mail for the addresses in scope only (the verdict tells
    // about allow/block lists of its recipients).
    if (!c.who().is_admin()) {
        if (recipients.empty()) return invalid("recipients: required (addresses in your scope)");
        for (const auto& rcpt : recipients)
            if (!c.who().may(Right::Policy, rcpt))
                return RpcError{rpc_code::kForbidden, fmt::format("recipients: {} is not in your scope", rcpt)};
    }
    if (client_ip && !client_ip->empty()) {
        if (!ipblock::parse_address(*client_ip))
            return invalid(fmt::format("client_ip: \"{}\" is not an IP address", *client_ip));
        r.args.push_back("--ip=" + *client_ip);
    }
    auto file = TempMessage::write(message);
    if (!file) return RpcError{rpc_code::kFailed, file.error().message};
    r.args.insert(r.args.end(), {"--", file->path()});
    return run_cli(c, r);
}

}  // namespace

void add_mail_methods(MethodTable& t) {
    add_admin(t, "queue.list", "Outbound queue entries, all but sent ones unless state or all (pmx queue list)", queue_list);
    add_admin(t, "queue.show", "One queue entry: envelope, each recipient's last reply (pmx queue show)", queue_show);
    add_admin(t, "queue.flush", "Ask pmx-queued to try every deferred entry now (pmx queue flush)", queue_flush);
    add_admin(t, "queue.retry", "Put deferred or failed entries back for delivery (pmx queue retry)",
              [](const Call& c) { return queue_each(c, "retry"); });
    add_admin(t, "queue.delete", "Delete queue entries without delivering them (pmx queue delete)",
              [](const Call& c) { return queue_each(c, "delete"); });
    add_admin(t, "ipblock.list", "The IP Blocker's blocks in the database (pmx ipblock list)", ipblock_list);
    add_admin(t, "ipblock.add", "Block an address or network, optionally for a time (pmx ipblock add)", ipblock_add);
    add_admin(t, "ipblock.remove", "Remove a block (pmx ipblock remove)", ipblock_remove);
    add_admin(t, "log.search", "The message log: recent messages and their verdicts, filtered (pmx log)", log_search);
    add_with_right(t, "reports.list", "The reports there are (pmx report list)", Right::Reports, reports_list);
    add_with_right(t, "reports.get", "One report over a time range (pmx report NAME)", Right::Reports, reports_get);
    add_with_right(t, "policy.show", "The policy in effect: file, rule counts, warnings and its text (pmx policy check)",
                   Right::Policy, policy_show);
    add_with_right(t, "policy.test", "Run the policy on a message: matched rules and verdicts (pmx policy test)",
                   Right::Policy, policy_test);
}

}  // namespace pmx::web::admin
