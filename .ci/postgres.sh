# A throwaway Postgres for the test run, from Debian's packages: `source .ci/postgres.sh; start_test_postgres`
# installs `postgresql` with apt-get when it is missing, initialises a cluster in a temporary directory (as the
# postgres user when run as root: the server refuses to run as root), starts it on a free loopback port with
# fsync off (nothing here needs to survive a crash), exports TEST_DATABASE_URL, and registers an EXIT trap
# that stops it and removes the directory. Used by .ci/run; a developer can source it too.

start_test_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian's postgresql"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  local dir
  dir="$(mktemp -d /tmp/quire-ci-pg.XXXXXX)"
  chmod 755 "$dir"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  local port
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  local stop="$bin/pg_ctl -D $dir/data -m immediate stop"
  [ "$(id -u)" -eq 0 ] && stop="runuser -u postgres -- $stop"
  # shellcheck disable=SC2064 # expanded now, on purpose: the paths are this function's locals
  trap "$stop >/dev/null 2>&1; rm -rf $dir" EXIT
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "test Postgres: $("$bin/postgres" --version) on 127.0.0.1:$port ($dir)"
}
