#!/bin/bash
# Installs the Debian 12 packages pmx needs to build, run and test. Fast when all are present.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config scdoc
  libcli11-dev libtomlplusplus-dev doctest-dev libfmt-dev
  libsystemd-dev libmilter-dev libsqlite3-dev libpcre2-dev
  libvectorscan-dev libc-ares-dev libclamav-dev libssl-dev
  libmicrohttpd-dev nlohmann-json3-dev libpam0g-dev libcrypt-dev  # pmx-httpd and lib/web
  # run: a systemd manager and D-Bus (the test sandbox runs a private `systemd --user`)
  systemd dbus dbus-user-session util-linux
  # tests: a real Postfix (private instance on loopback), SMTP and milter clients
  python3 postfix swaks miltertest
  dnsmasq-base  # a real DNS server on loopback serving test blocklist zones (test_dnsbl.sh)
  spamassassin spamd spamc  # SpamAssassin's own rules: test_spam_rules, bench/spamassassin-compare.sh
  curl jq  # RPC tests of pmx-httpd
  openssl  # test_httpd: certificate fingerprints, s_client
  chromium  # browser tests: playwright-core (from npm) drives Debian's chromium
)
# Node.js and npm for the browser tests: Debian's packages unless a node with npm is already
# there (a NodeSource nodejs bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: installing packages needs root (sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix without a system-wide configuration: tests run private instances only.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
