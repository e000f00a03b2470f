#!/usr/bin/env bash
# Installs what the tests, `make dev` and `make bench` run against, from Debian's packages, when
# it is missing: the PostgreSQL server, Redis, PgBouncer and wrk; and what the single-node cluster
# (internal/localnode) runs on: containerd, runc, iptables and conntrack. Quick when all is there.
# As root it installs them without starting the system's own services (our servers run from
# internal/localenv on free loopback ports); otherwise it prints what to install.
set -euo pipefail

say() { echo "install-deps: $*" >&2; }

missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null || missing+=(postgres)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools) # builds the test Redis Cluster
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v wrk >/dev/null || missing+=(wrk)
command -v setpriv >/dev/null || missing+=(util-linux)
# The node's runtime and rules; no service of theirs is started (policy-rc.d below, and PID 1
# here is not systemd): internal/localnode runs containerd on its own socket.
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || missing+=(iptables)
command -v conntrack >/dev/null || [ -x /usr/sbin/conntrack ] || missing+=(conntrack)

if [ ${#missing[@]} -eq 0 ]; then
	say "PostgreSQL, Redis, PgBouncer, wrk, containerd, runc, iptables and conntrack are installed"
	exit 0
fi

# Debian 12 names the server package by major version; "postgresql" pulls the default one.
packages=()
for m in "${missing[@]}"; do
	case $m in
	postgres) packages+=(postgresql-15) ;;
	*) packages+=("$m") ;;
	esac
done

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	say "missing: ${packages[*]}; install them with: sudo apt-get install ${packages[*]}"
	# Tests skip on a developer's machine without them, but CI must not pass having tested nothing.
	[ "${CI:-}" = true ] && exit 1
	exit 0
fi

say "installing ${packages[*]}"
# Keep the packages' own services from starting, and no default PostgreSQL cluster.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
fi
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/shortlink-no-main-cluster.conf
cleanup() { if $own_policy; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-cache show postgresql-15 >/dev/null 2>&1; then
	packages=("${packages[@]/postgresql-15/postgresql}")
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2

# Belt and braces: whatever a package started, stop it.
for service in postgresql redis-server pgbouncer containerd; do
	if command -v service >/dev/null && service "$service" status >/dev/null 2>&1; then
		say "stopping the system's $service service"
		service "$service" stop >/dev/null 2>&1 || true
	fi
done
say "installed ${packages[*]}"
