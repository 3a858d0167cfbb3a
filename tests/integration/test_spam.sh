#!/bin/bash
# The anti-spam engine end to end, through a real Postfix and pmx-milter under the sandbox's
# systemd manager: SpamAssassin-format rules, Bayes trained with `pmx spam learn`, a DNS
# blocklist served by a real dnsmasq on loopback; the policy acts on the score, the delivered
# copy carries X-PMX-Spam-Status, and `pmx spam check` explains the same score.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-spam-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir/spam.d

# A DNS blocklist on loopback: 127.0.0.1 (the test client) is listed in zen.pmx.test.
dnsmasq --keep-in-foreground --port=15356 --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
        --no-hosts --pid-file="$work/dnsmasq.pid" --address=/1.0.0.127.zen.pmx.test/127.0.0.2 \
        --address=/listed-uri.test.dbl.pmx.test/127.0.1.2 2>"$work/dnsmasq.log" &
dns_pid=$!

# Rules in SpamAssassin's format: the admin's own file (spam.admin_rules = spam.d, under the config
# directory; not /tmp, which the units keep private) beside pmx's shipped rules.
cat > $confdir/spam.d/90_test.cf <<'CF'
header   PMX_T_SUBJ_PILLS  Subject =~ /\bcheap pills\b/i
describe PMX_T_SUBJ_PILLS  Subject offers cheap pills
score    PMX_T_SUBJ_PILLS  4.0
body     PMX_T_BODY_PILLS  /order (?:now|today) and save/i
describe PMX_T_BODY_PILLS  Body pushes an order now
score    PMX_T_BODY_PILLS  2.5
meta     PMX_T_BOTH        (PMX_T_SUBJ_PILLS && PMX_T_BODY_PILLS)
describe PMX_T_BOTH        Subject and body both push pills
score    PMX_T_BOTH        1.0
CF

cat > $confdir/pmx.toml <<TOML
[general]
internal_networks = []   # the test client on 127.0.0.1 counts as outside: blocklists apply

[milter]
socket = "inet:17364@127.0.0.1"

[bayes]
min_spam = 5
min_ham = 5
auto_learn = false

[dnsbl]
nameservers = ["127.0.0.1:15356"]
ip_zones = ["zen.pmx.test=127.0.0.2:PMX_TEST_SBL:0.5"]
uri_zones = ["dbl.pmx.test=127.0.1.2:PMX_TEST_DBL:3.0"]
timeout_ms = 2000
TOML
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "stamp"
then = ["replace_header:X-PMX-Scanned: yes"]

[[rule]]
name = "spam"
when = { spam_score_at_least = 5 }
then = ["quarantine:spam score {spam_score}"]
TOML

run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started with spam rules, Bayes and a blocklist configured"

run 0 pmx --user spam rules --json
contains "PMX_T_SUBJ_PILLS"
ok "pmx spam rules lists the admin's rule"

# Train Bayes on a handful of clearly different messages (a Maildir and an mbox).
mkdir -p $work/train/spam/cur $work/train/ham/cur
for i in 1 2 3 4 5 6; do
  printf 'From: promo%d@deals.test\nTo: bob@example.test\nSubject: unbeatable casino bonus %d\nMessage-ID: <s%d@deals.test>\n\nwin big casino jackpot bonus spins free credit claim bonus today %d\n' \
    $i $i $i $i > $work/train/spam/cur/$i
  printf 'From: carol%d@example.test\nTo: bob@example.test\nSubject: meeting notes %d\nMessage-ID: <h%d@example.test>\n\nattached are the minutes of the quarterly planning meeting and the budget review %d\n' \
    $i $i $i $i > $work/train/ham/cur/$i
done
run 0 pmx --user spam learn --spam $work/train/spam
run 0 pmx --user spam learn --ham $work/train/ham
ok "pmx spam learn trained Bayes from Maildirs"

trap 'pfx_stop "$pfx"; kill $dns_pid 2>/dev/null || true' EXIT
pfx_start_filtered "$pfx" 2565 2566

send() {  # send SUBJECT BODY MARKER
  swaks --server 127.0.0.1 --port 2565 --from sender@outside.test --to bob@example.test \
        --header "Subject: $1" --header "X-Marker: $3" --body "$2" 2>&1
}
sink_file() { grep -rlF -- "$1" "$pfx/sink" 2>/dev/null | head -1; }

out=$(send "meeting notes for friday" "attached are the minutes of the planning meeting" m-ham) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
f=$(sink_file m-ham)
[ -n "$f" ] || fail "the ham message was not delivered"
grep -q "^X-PMX-Spam-Status: No, score=" "$f" || fail "no X-PMX-Spam-Status on ham: $(grep -i '^X-PMX' "$f")"
grep "^X-PMX-Spam-Status" "$f" | grep -q "RCVD_IN_PMX_TEST_SBL" || fail "blocklist hit missing: $(grep ^X-PMX-Spam "$f")"
grep "^X-PMX-Spam-Status" "$f" | grep -q "BAYES_" || fail "Bayes rule missing: $(grep ^X-PMX-Spam "$f")"
ok "ham is delivered with X-PMX-Spam-Status (score, the blocklist hit, a BAYES_ rule)"

out=$(send "cheap pills for you" "order now and save on casino bonus" m-spam) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20
[ -n "$(sink_file m-spam)" ] && fail "spam was delivered: $(grep -h "^X-PMX-Spam" "$(sink_file m-spam)")"
run 0 pmx --user quarantine list --json
contains "spam score"
ok "rules + meta + Bayes push spam over 5: the policy quarantines it"

out=$(send "hello" "see http://listed-uri.test/offer and order today and save" m-uri) || true
pfx_wait_queue_empty "$pfx" 20
[ -n "$(sink_file m-uri)" ] && fail "message with a listed URI host was delivered"
run 0 pmx --user log --json --limit 5
contains "URIBL_PMX_TEST_DBL"
ok "a URI host on the domain blocklist adds its score (logged with the rules hit)"

printf 'From: x@outside.test\nTo: bob@example.test\nSubject: cheap pills\n\norder now and save\n' > $work/check.eml
run 0 pmx --user spam check --client-ip 127.0.0.1 $work/check.eml
contains "SPAM"
contains "PMX_T_SUBJ_PILLS"
contains "Subject offers cheap pills"
contains "RCVD_IN_PMX_TEST_SBL"
run 0 pmx --user spam check --json --no-bayes $work/check.eml
[ "$(json_get 'j[0]["spam"]')" = "True" ] || fail "pmx spam check --json: not spam: $out"
ok "pmx spam check explains each point (rules with descriptions, blocklist)"

# A dead blocklist server costs at most dnsbl.timeout_ms and never loses mail.
kill $dns_pid; wait $dns_pid 2>/dev/null || true
start=$(date +%s%N)
out=$(send "status report" "the weekly status report" m-nodns) || true
contains "250 2.0.0 Ok: queued"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
pfx_wait_queue_empty "$pfx" 20
[ -n "$(sink_file m-nodns)" ] || fail "mail was lost with the DNS server down"
ok "with the blocklist server gone, mail still flows (accepted in ${ms} ms)"

echo "all $pass checks passed"
