#include "policy_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.hpp"
#include "store/database.hpp"

namespace pmx::ipblockd {

namespace {

// More open policy connections than this are refused: each Postfix smtpd keeps one, so the
// cap is well above default_process_limit, and a flood cannot exhaust our descriptors.
constexpr std::size_t kMaxConnections = 2000;

ipblock::ListFiles list_files(const config::Snapshot& cfg) {
    auto dir = config::Layout::from_environment().config_dir;
    ipblock::ListFiles f;
    for (const auto& p : cfg.strings("ipblock.block_files")) f.block.push_back(dir / p);  // absolute p stays
    for (const auto& p : cfg.strings("ipblock.exception_files")) f.exception.push_back(dir / p);
    f.internal_networks = cfg.strings("general.internal_networks");
    return f;
}

}  // namespace

struct PolicyServer::Connection {
    Connection(PolicyServer* s, daemon::UniqueFd f) : server(s), fd(std::move(f)) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    PolicyServer* server;
    daemon::UniqueFd fd;
    sd_event_source* source = nullptr;
    ipblock::PolicyParser parser;
    ~Connection() {
        if (source) sd_event_source_disable_unref(source);
    }
};

PolicyServer::PolicyServer() : SocketService("ipblock.socket", "") {}

PolicyServer::~PolicyServer() {
    poller_.reset();  // joins its thread before the state goes
    connections_.clear();
}

Result<void> PolicyServer::load_files(const config::Snapshot& cfg) {
    std::vector<ipblock::ListProblem> problems;
    auto lists = ipblock::load_lists(list_files(cfg), problems);
    if (!lists) return lists.error();
    for (const auto& p : problems) log::warning("{}, ignoring the line", p.describe());
    if ((*lists)->lines_skipped > problems.size())
        log::warning("{} more bad lines in the IP lists, ignored", (*lists)->lines_skipped - problems.size());
    log::info("Loaded IP lists: {} block and {} exception entries from {} file(s) in {:.2f} s ({} KiB)",
              (*lists)->block.size(), (*lists)->exception.size(),
              (*lists)->block_sources.size() + (*lists)->exception_sources.size(), (*lists)->load_seconds,
              ((*lists)->block.memory_bytes() + (*lists)->exception.memory_bytes()) / 1024);
    state_.set_files(std::move(*lists));
    return {};
}

Result<void> PolicyServer::start(daemon::Daemon& d) {
    if (auto r = load_files(*d.config()); !r) return r;
    if (auto r = SocketService::start(d); !r) return r;
    const auto& tcp = d.config()->string("ipblock.tcp_listen");
    if (!tcp.empty()) {
        auto l = TcpListener::open(d.event(), tcp, [this](daemon::UniqueFd fd) { on_connection(std::move(fd)); });
        if (!l) return l.error();
        tcp_ = std::move(*l);
    }
    poller_ = std::make_unique<BlockPoller>(d, state_);
    poller_->start();
    return {};
}

Result<void> PolicyServer::prepare_reload(const config::Snapshot& next) {
    if (auto r = load_files(next); !r) return r;
    if (poller_) poller_->wake();
    return {};
}

std::string PolicyServer::status_text() const {
    auto v = state_.view();
    std::string s = fmt::format("Listening on {}", listen());
    if (v.files)
        s += fmt::format("; {} block and {} exception list entries", v.files->block.size(), v.files->exception.size());
    if (v.db) s += fmt::format(", {} blocks in the database", v.db->rows.size());
    else s += ", database blocks not loaded yet";
    return s;
}

std::string PolicyServer::listen() const {
    std::string s = SocketService::listen();
    if (tcp_) s += ", " + tcp_->spec();
    return s;
}

void PolicyServer::on_connection(daemon::UniqueFd fd) {
    if (connections_.size() >= kMaxConnections) {
        daemon().counters().add("connections_refused");
        return;  // closing it is the answer; Postfix applies its policy default action
    }
    auto c = std::make_unique<Connection>(this, std::move(fd));
    int r = sd_event_add_io(daemon().event(), &c->source, c->fd.get(), EPOLLIN, on_io, c.get());
    if (r < 0) {
        log::warning("Failed to watch policy connection: {}, closing it", std::strerror(-r));
        return;
    }
    daemon().counters().add("connections");
    connections_.emplace(c.get(), std::move(c));
}

int PolicyServer::on_io(sd_event_source*, int, uint32_t, void* userdata) noexcept {
    auto* c = static_cast<Connection*>(userdata);
    try {
        c->server->handle_readable(*c);
    } catch (const std::exception& e) {
        log::error("Failed to serve policy request: {}, closing connection", e.what());
        c->server->close_connection(*c);
    }
    return 0;
}

void PolicyServer::handle_readable(Connection& c) {
    char buf[8192];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { close_connection(c); return; }
    c.parser.feed({buf, static_cast<size_t>(n)});

    ipblock::PolicyRequest request;
    std::string replies;
    for (;;) {
        auto status = c.parser.next(request);
        if (status == ipblock::PolicyParser::Status::NeedMore) break;
        if (status == ipblock::PolicyParser::Status::Error) {
            daemon().counters().add("protocol_errors");
            log::warning("Policy client sent a bad request ({}), closing connection", c.parser.error());
            close_connection(c);
            return;
        }
        daemon().counters().add("requests");
        replies += ipblock::format_policy_reply(decide(request));
    }
    // Replies are tiny and the peer waits for each one, so a blocking-style send loop is fine.
    for (size_t off = 0; off < replies.size();) {
        ssize_t w = ::send(c.fd.get(), replies.data() + off, replies.size() - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) continue;  // a peer that pipelines and never reads: rare, bounded by its own requests
        if (w <= 0) { close_connection(c); return; }
        off += static_cast<size_t>(w);
    }
}

std::string PolicyServer::decide(const ipblock::PolicyRequest& request) {
    auto cfg = daemon().config();
    auto failure = [&](std::string_view why) -> std::string {
        daemon().counters().add("failures");
        log::warning("Cannot judge a policy request: {}; answering per ipblock.on_failure", why);
        return cfg->string("ipblock.on_failure") == "tempfail" ? "DEFER 4.3.0 Client address check unavailable"
                                                               : "DUNNO";
    };
    auto it = request.find("client_address");
    if (it == request.end()) return failure("no client_address");
    auto a = ipblock::parse_address(it->second);
    if (!a) return failure(fmt::format("client_address \"{:.60}\" is not an IP address", it->second));
    auto view = state_.view();
    if (!view.files) return failure("no lists loaded");
    auto verdict = ipblock::decide(view.files.get(), view.db.get(), *a, store::now_us());
    if (!verdict.blocked()) {
        daemon().counters().add("dunno");
        return "DUNNO";
    }
    daemon().counters().add("rejects");
    daemon().counters().add("rejects_" + ipblock::why_name(verdict.why));
    std::string ip = ipblock::format_address(*a);
    log::info("Rejecting client {}: {} ({} {})", ip, verdict.reason, ipblock::why_name(verdict.why), verdict.entry);
    return ipblock::reject_action(cfg->string("ipblock.reject_text"), cfg->string("ipblock.lookup_url"), ip,
                                  verdict.reason);
}

void PolicyServer::close_connection(Connection& c) { connections_.erase(&c); }

}  // namespace pmx::ipblockd
