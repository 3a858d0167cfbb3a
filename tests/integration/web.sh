# Helpers for tests of pmx-httpd (sourced after lib.sh). Everything talks to 127.0.0.1 with curl -k
# (the daemon's certificate is self-signed in tests).
#
# The test sets the ports first:
#   WEB_ADMIN_PORT, WEB_USER_PORT   the admin and user interfaces (httpd.admin_listen, user_listen)
# Optional:
#   WEB_DIR           where cookie jars, CSRF tokens and account copies go (default: $work/web when
#                     the test has $work, else a new /tmp/pmx-web-XXXXXX)
#   WEB_PAM_SERVICE   the PAM service web_admin_account writes (default pmx-httpd = httpd.pam_service)
#
#   web_admin_account NAME PASSWORD [GROUP]
#       A system account NAME with PASSWORD, member of GROUP (default pmx-admin, created when
#       missing), plus the PAM service file (pam_unix auth + account). Works on copies of
#       /etc/passwd, /etc/shadow, /etc/group and /etc/pam.d bind-mounted over the originals in the
#       sandbox's private mount namespace (the host's files are never touched). Call it before
#       pmx-httpd starts: a unit with its own mount namespace copies it at start. Repeat for more
#       accounts (the copies are edited in place, so the mounts stay).
#       GROUP "-" makes an account in no extra group.
#   web_login REALM NAME PASSWORD
#       POST /api/login on the realm's port (admin | user) with the realm's cookie jar. Sets
#       web_status (HTTP status), out (the body, for contains/json_get); on 200 stores the CSRF
#       token (file $WEB_DIR/csrf-REALM, variable WEB_CSRF_ADMIN / WEB_CSRF_USER). Returns 0 on 200.
#   web_rpc REALM METHOD [PARAMS_JSON]
#       POST /rpc with the realm's cookie jar and CSRF token; prints the reply body. Returns 0 on
#       HTTP 200 (a JSON-RPC error is still 200: check "error" in the body).
#   web_http REALM METHOD PATH [BODY] [CURL_ARGS...]
#       A raw request: prints the HTTP status on the first line, then the body. Headers of the
#       response are kept in $WEB_DIR/headers. The stored CSRF token is sent unless WEB_CSRF is
#       set (WEB_CSRF=value sends that value, WEB_CSRF= sends none). WEB_JAR=FILE uses another
#       cookie jar (e.g. the user realm's on the admin port; /dev/null: none, so a -b CURL_ARG
#       gives the only cookies).
#   web_jar REALM    the cookie jar file of a realm.

WEB_PAM_SERVICE=${WEB_PAM_SERVICE:-pmx-httpd}
if [ -z "${WEB_DIR:-}" ]; then
  if [ -n "${work:-}" ]; then WEB_DIR=$work/web; else WEB_DIR=$(mktemp -d /tmp/pmx-web-XXXXXX); fi
fi
mkdir -p "$WEB_DIR"
web_rpc_id=0

web_port() {
  case "$1" in
    admin) echo "${WEB_ADMIN_PORT:?set WEB_ADMIN_PORT}";;
    user) echo "${WEB_USER_PORT:?set WEB_USER_PORT}";;
    *) echo "web.sh: realm must be admin or user, not '$1'" >&2; return 2;;
  esac
}
web_jar() { echo "$WEB_DIR/jar-$1"; }

# The copies of /etc files, bind-mounted over the originals on first use.
web_etc_copies() {
  local e=$WEB_DIR/etc
  [ -f "$e/mounted" ] && return 0
  mkdir -p "$e"
  cp -p /etc/passwd /etc/shadow /etc/group "$e/"  # -p: shadow stays 0640 root:shadow, as pam_unix expects
  cp -a /etc/pam.d "$e/pam.d"
  local f
  for f in passwd shadow group; do mount --bind "$e/$f" "/etc/$f" || fail "cannot bind-mount /etc/$f"; done
  mount --bind "$e/pam.d" /etc/pam.d || fail "cannot bind-mount /etc/pam.d"
  touch "$e/mounted"
}

# Rewrites a bind-mounted file in place (same inode: the mount keeps showing it).
web_rewrite() {  # web_rewrite FILE < new content
  local tmp; tmp=$(mktemp "$WEB_DIR/rewrite-XXXXXX")
  cat > "$tmp"; cat "$tmp" > "$1"; rm -f "$tmp"
}

web_admin_account() {
  local name=$1 password=$2 group=${3:-pmx-admin} e=$WEB_DIR/etc uid gid hash
  web_etc_copies
  if ! grep -q "^$group:" "$e/group" && [ "$group" != - ]; then
    gid=61000; while cut -d: -f3 "$e/group" | grep -qx "$gid"; do gid=$((gid + 1)); done
    echo "$group:x:$gid:" >> "$e/group"
  fi
  if ! grep -q "^$name:" "$e/passwd"; then
    uid=61000; while cut -d: -f3 "$e/passwd" | grep -qx "$uid"; do uid=$((uid + 1)); done
    echo "$name:x:$uid:65534:pmx web test account:/nonexistent:/usr/sbin/nologin" >> "$e/passwd"
    hash=$(openssl passwd -6 -stdin <<< "$password")
    echo "$name:$hash:$(( $(date +%s) / 86400 )):0:99999:7:::" >> "$e/shadow"
  fi
  if [ "$group" != - ]; then
    awk -F: -v OFS=: -v g="$group" -v u="$name" '
      $1 == g { n = split($4, m, ","); found = 0
                for (i = 1; i <= n; i++) if (m[i] == u) found = 1
                if (!found) $4 = ($4 == "" ? u : $4 "," u) }
      { print }' "$e/group" | web_rewrite "$e/group"
  fi
  printf 'auth    required pam_unix.so\naccount required pam_unix.so\n' > "$e/pam.d/$WEB_PAM_SERVICE"
}

# web_curl REALM METHOD PATH [BODY] [CURL_ARGS...]: sets web_status and web_body.
web_curl() {
  local realm=$1 method=$2 path=$3 body=${4-} port jar csrf res
  shift 3; [ $# -gt 0 ] && shift
  port=$(web_port "$realm") || return 2
  jar=${WEB_JAR:-$(web_jar "$realm")}
  if [ -n "${WEB_CSRF+set}" ]; then csrf=$WEB_CSRF; else csrf=$(cat "$WEB_DIR/csrf-$realm" 2>/dev/null || true); fi
  local args=(-k -sS -X "$method" -D "$WEB_DIR/headers" -w '\n%{http_code}')
  [ "$jar" != /dev/null ] && args+=(-b "$jar" -c "$jar")
  [ -n "$csrf" ] && args+=(-H "X-PMX-CSRF: $csrf")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  res=$(curl "${args[@]}" "$@" "https://127.0.0.1:$port$path") || { web_status=000; web_body=$res; return 1; }
  web_status=${res##*$'\n'}
  web_body=${res%$'\n'*}
  [ "$web_body" = "$res" ] && web_body=""
  return 0
}

web_login() {
  local realm=$1 body
  body=$(jq -cn --arg n "$2" --arg p "$3" '{name: $n, password: $p}')
  WEB_CSRF= web_curl "$realm" POST /api/login "$body" || true
  out=$web_body
  [ "$web_status" = 200 ] || return 1
  local csrf; csrf=$(printf '%s' "$web_body" | jq -r .csrf)
  printf '%s' "$csrf" > "$WEB_DIR/csrf-$realm"
  if [ "$realm" = admin ]; then WEB_CSRF_ADMIN=$csrf; else WEB_CSRF_USER=$csrf; fi
  export WEB_CSRF_ADMIN WEB_CSRF_USER
  return 0
}

web_rpc() {
  local realm=$1 method=$2 params=${3:-'{}'} body
  web_rpc_id=$((web_rpc_id + 1))
  body=$(jq -cn --arg m "$method" --argjson p "$params" --argjson i "$web_rpc_id" \
         '{jsonrpc: "2.0", id: $i, method: $m, params: $p}') || return 2
  web_curl "$realm" POST /rpc "$body" || return 1
  printf '%s\n' "$web_body"
  [ "$web_status" = 200 ]
}

web_http() {
  web_curl "$@" || true
  printf '%s\n%s\n' "$web_status" "$web_body"
}
