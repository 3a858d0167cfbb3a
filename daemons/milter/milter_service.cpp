#include "milter_service.hpp"

#include <libmilter/mfapi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "callbacks.hpp"
#include "daemon/log.hpp"
#include "store/store_config.hpp"

namespace pmx::milter {

namespace {
MilterService* g_instance = nullptr;
}

MilterService& MilterService::instance() { return *g_instance; }

std::string milter_connection_spec(const std::string& configured) {
    if (configured.starts_with("inet:") || configured.starts_with("inet6:") || configured.starts_with("unix:"))
        return configured;
    return "unix:" + daemon::Daemon::runtime_path(configured).string();
}

Result<std::shared_ptr<const Runtime>> MilterService::build_runtime(config::SnapshotPtr config,
                                                                   std::shared_ptr<Store> store,
                                                                   const Runtime* previous) {
    auto rt = std::make_shared<Runtime>();
    auto policy = policy::load_policy(config::Layout::from_environment());
    if (!policy) return Error{fmt::format("Failed to load the policy: {}", policy.error().message)};
    for (const auto& w : policy->warnings()) log::warning("{}", w);
    rt->policy = std::make_shared<const policy::Policy>(std::move(*policy));
    auto site = policy::site_from_config(*config);
    if (!site) return site.error();
    rt->site = std::move(*site);
    rt->limits.max_headers = static_cast<std::size_t>(config->integer("milter.max_headers"));
    rt->limits.max_header_bytes = static_cast<std::size_t>(config->integer("milter.max_header_bytes"));
    rt->quarantine_dir = store::store_paths(*config).quarantine_dir;
    std::error_code ec;
    std::filesystem::create_directories(rt->quarantine_dir, ec);
    if (ec) return Error{fmt::format("Failed to create quarantine directory {}: {}", rt->quarantine_dir.string(), ec.message())};
    std::filesystem::permissions(rt->quarantine_dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                         std::filesystem::perms::group_exec, ec);
    rt->node_name = config->string("general.node_name");
    if (rt->node_name.empty()) {
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        rt->node_name = host;
    }
    // Rules are compiled again on every reload; the blocklist cache carries over.
    auto scanner = spam::Scanner::from_config(*config, config::Layout::from_environment(),
                                              previous ? previous->spam.get() : nullptr);
    if (!scanner) return scanner.error();
    rt->spam = std::move(*scanner);
    log::info("Spam rules: {} loaded from {} files, {} unsupported", rt->spam->rules().rule_count(),
              rt->spam->rules().files_read(), rt->spam->rules().unsupported().size());
    rt->av = av::milter_settings(*config);
    // Without the keyring no stamp is valid: released mail is filtered again, nothing worse.
    if (auto ring = secret::load_or_create_keyring(secret::keyring_path(*config)))
        rt->keyring = std::make_shared<const secret::Keyring>(std::move(*ring));
    else
        log::warning("{}: re-injected mail will be filtered like any other", ring.error().message);
    rt->store = std::move(store);
    rt->config = std::move(config);
    return std::shared_ptr<const Runtime>(std::move(rt));
}

Result<std::shared_ptr<Store>> MilterService::open_store(const config::Snapshot& config) {
    auto path = store::store_paths(config).database;
    auto db = store::Database::open(path);
    if (!db) return db.error();
    auto log_db = store::Database::open(path, {.synchronous_full = false, .migrate = false});
    if (!log_db) return log_db.error();
    auto store = std::make_shared<Store>(std::move(*db), std::move(*log_db));
    auto lists = store::DatabaseLists::open(path);
    if (!lists) return lists.error();
    store->lists = std::move(*lists);
    auto bayes_db = store::Database::open(path, {.synchronous_full = false, .migrate = false});
    if (!bayes_db) return bayes_db.error();
    store->bayes_db.emplace(std::move(*bayes_db));
    return store;
}

std::shared_ptr<const Runtime> MilterService::runtime() const {
    std::lock_guard lock(mutex_);
    return runtime_;
}

Result<void> MilterService::start(daemon::Daemon& daemon) {
    daemon_ = &daemon;
    g_instance = this;
    auto store = open_store(*daemon.config());
    if (!store) return store.error();
    auto rt = build_runtime(daemon.config(), std::move(*store));
    if (!rt) return rt.error();
    runtime_ = std::move(*rt);

    listen_ = milter_connection_spec(daemon.config()->string("milter.socket"));
    if (smfi_register(milter_description()) == MI_FAILURE) return Error{"Failed to register with libmilter"};
    if (smfi_setconn(const_cast<char*>(listen_.c_str())) == MI_FAILURE)
        return Error{fmt::format("Failed to set milter socket {}", listen_)};
    smfi_setbacklog(256);
    // Open now (removing a stale unix socket), so READY=1 means "listening".
    if (smfi_opensocket(true) == MI_FAILURE) return Error{fmt::format("Failed to open milter socket {}", listen_)};
    if (listen_.starts_with("unix:")) ::chmod(listen_.c_str() + 5, 0660);  // the MTA reaches it through group pmx
    return {};
}

Result<void> MilterService::prepare_reload(const config::Snapshot& next) {
    auto rt = build_runtime(std::make_shared<const config::Snapshot>(next), runtime()->store, runtime().get());
    if (!rt) return rt.error();
    std::lock_guard lock(mutex_);
    runtime_ = std::move(*rt);
    return {};
}

std::string MilterService::status_text() const {
    auto rt = runtime();
    if (!rt) return fmt::format("Starting on {}", listen_);
    return fmt::format("Judging mail on {} with {} policy rules from {}", listen_, rt->policy->rule_count(),
                       rt->policy->file());
}

int MilterService::run_main(daemon::Daemon&) {
    // Returns on SIGTERM/SIGINT/SIGHUP (libmilter's own signal thread), after live sessions end.
    int r = smfi_main();
    return r == MI_SUCCESS ? 0 : 1;
}

}  // namespace pmx::milter
