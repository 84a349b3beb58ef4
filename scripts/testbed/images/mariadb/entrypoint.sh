#!/bin/bash
# Starts MariaDB as the mysql user, listening on every address; initialises an empty data
# directory first: the root password, then the database and the user of the environment.
set -euo pipefail
if [ "${1#-}" != "$1" ]; then set -- mariadbd "$@"; fi
if [ "$1" != mariadbd ]; then exec "$@"; fi
shift
args=(--user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --skip-name-resolve "$@")
root=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
db=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
password=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
mkdir -p /run/mysqld /var/lib/mysql
chown mysql:mysql /run/mysqld /var/lib/mysql
if [ ! -d /var/lib/mysql/mysql ]; then
  if [ -z "$root" ]; then
    echo "ferry-tb-mariadb: MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) is required to initialise the database" >&2
    exit 1
  fi
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --user=mysql --datadir=/var/lib/mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 60); do mariadb --socket=/run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
  sql() { mariadb --socket=/run/mysqld/init.sock -uroot "$@"; }
  q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }
  {
    echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY $(q "$root");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(q "$root");"
    if [ -n "$db" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"; fi
    if [ -n "$user" ] && [ -n "$password" ]; then
      echo "CREATE USER '$user'@'%' IDENTIFIED BY $(q "$password");"
      if [ -n "$db" ]; then echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | sql
  kill "$pid"
  wait "$pid" || true
  echo "ferry-tb-mariadb: initialised${db:+ database $db}${user:+ for user $user}"
fi
exec mariadbd "${args[@]}"
