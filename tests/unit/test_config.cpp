#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "services/registry.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx::config;

namespace {
using pmx::test::TempDir;
}  // namespace

TEST_CASE("schema: every key is well formed") {
    for (const auto& k : all_keys()) {
        CAPTURE(std::string(k.name));
        CHECK(k.name.find('.') != std::string_view::npos);
        CHECK(!k.doc.empty());
        CHECK(!k.services.empty());
        CHECK(check_value(k, k.default_value).empty());  // defaults obey their own rules
        for (auto s : k.services) CHECK((s == "*" || pmx::find_service(s) != nullptr));
    }
}

TEST_CASE("suggest_key finds close keys and nothing for far ones") {
    CHECK(suggest_key("milter.max_recipient") == "milter.max_recipients");
    CHECK(suggest_key("general.log_levle") == "general.log_level");
    CHECK(suggest_key("max_parallel") == "queue.max_parallel");
    CHECK(suggest_key("completely.unrelated_thing") == "");
    CHECK(edit_distance("abc", "acb") == 1);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("parse_text_value checks types, ranges and choices") {
    auto* recipients = find_key("milter.max_recipients");
    REQUIRE(recipients);
    CHECK(parse_text_value(*recipients, "50").ok);
    CHECK(std::get<std::int64_t>(parse_text_value(*recipients, "50").value) == 50);
    CHECK(!parse_text_value(*recipients, "5x").ok);
    CHECK(!parse_text_value(*recipients, "").ok);
    auto too_big = parse_text_value(*recipients, "100001");
    CHECK(!too_big.ok);
    CHECK(too_big.error.find("out of range") != std::string::npos);

    auto* level = find_key("general.log_level");
    CHECK(parse_text_value(*level, "debug").ok);
    CHECK(parse_text_value(*level, "loud").error.find("allowed: debug") != std::string::npos);
}

TEST_CASE("layering: defaults, vendor, admin, then drop-ins in name order") {
    TempDir t;
    t.write("vendor/pmx.toml", "[queue]\nmax_parallel = 2\nrelay = \"vendor:25\"\n");
    t.write("etc/pmx.toml", "[queue]\nmax_parallel = 3\n");
    t.write("etc/pmx.toml.d/20-b.toml", "[queue]\nmax_parallel = 5\n");
    t.write("etc/pmx.toml.d/10-a.toml", "[queue]\nmax_parallel = 4\n[milter]\nmax_recipients = 7\n");
    t.write("etc/pmx.toml.d/ignored.conf", "this is not toml and not read");
    Layout layout{t.path / "vendor", t.path / "etc"};

    auto files = layout.files();
    REQUIRE(files.size() == 4);
    CHECK(files[2].filename() == "10-a.toml");
    CHECK(files[3].filename() == "20-b.toml");

    auto snap = load(layout);
    REQUIRE(snap.ok());
    CHECK(snap->integer("queue.max_parallel") == 5);
    CHECK(snap->setting("queue.max_parallel").origin.file == (t.path / "etc/pmx.toml.d/20-b.toml").string());
    CHECK(snap->setting("queue.max_parallel").origin.line == 2);
    CHECK(snap->string("queue.relay") == "vendor:25");
    CHECK(snap->integer("milter.max_recipients") == 7);
    CHECK(snap->setting("av.max_scans").origin.is_default());
}

TEST_CASE("a missing config dir means defaults") {
    Layout layout{"/nonexistent/vendor", "/nonexistent/etc"};
    auto snap = load(layout);
    REQUIRE(snap.ok());
    CHECK(snap->string("general.log_level") == "info");
}

TEST_CASE("errors from several files are all reported") {
    TempDir t;
    t.write("etc/pmx.toml", "[milter]\nmax_recipients = 0\n");
    t.write("etc/pmx.toml.d/50-x.toml", "[queue]\nrelai = \"x\"\n");
    auto snap = load(Layout{t.path / "vendor", t.path / "etc"});
    REQUIRE(!snap.ok());
    CHECK(snap.error().message.find("pmx.toml:2:18: milter.max_recipients: 0 is out of range") != std::string::npos);
    CHECK(snap.error().message.find("50-x.toml:2:1: queue.relai: unknown key (did you mean \"queue.relay\"?)") !=
          std::string::npos);
}

TEST_CASE("drop-in rendering round-trips and validates edits before writing") {
    TempDir t;
    Layout layout{t.path / "vendor", t.path / "etc"};
    std::vector<std::pair<const KeySpec*, Value>> values = {
        {find_key("queue.relay"), std::string("mx \"quoted\" \\ host:25")},
        {find_key("general.log_level"), std::string("debug")},
        {find_key("milter.max_recipients"), std::int64_t{12}},
    };
    std::string text = render_dropin(values);
    CHECK(text.find("[general]") < text.find("[milter]"));
    t.write("etc/pmx.toml.d/90-pmx-config-set.toml", text);
    auto back = read_dropin(layout.own_dropin());
    REQUIRE(back.ok());
    CHECK(back->size() == 3);
    auto snap = load(layout);
    REQUIRE(snap.ok());
    CHECK(snap->string("queue.relay") == "mx \"quoted\" \\ host:25");

    // An admin drop-in sorting after ours wins; load_files_with sees the edit in place.
    t.write("etc/pmx.toml.d/99-local.toml", "[milter]\nmax_recipients = 99\n");
    auto merged = load_files_with(layout.files(), layout.own_dropin(), "[milter]\nmax_recipients = 1\n");
    REQUIRE(merged.ok());
    CHECK(merged->integer("milter.max_recipients") == 99);
    auto bad = load_files_with(layout.files(), layout.own_dropin(), "[milter]\nmax_recipients = -1\n");
    CHECK(!bad.ok());
}

TEST_CASE("a new drop-in under validation sorts among the others") {
    TempDir t;
    Layout layout{t.path / "vendor", t.path / "etc"};
    t.write("etc/pmx.toml.d/95-late.toml", "[queue]\nmax_parallel = 9\n");
    auto merged = load_files_with(layout.files(), layout.own_dropin(), "[queue]\nmax_parallel = 1\n");
    REQUIRE(merged.ok());
    CHECK(merged->integer("queue.max_parallel") == 9);  // 90-pmx-config-set sorts before 95-late
}
