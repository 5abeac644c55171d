#!/usr/bin/env bash
# Runs a command inside a private network namespace that has only loopback, so that no
# packet (mDNS multicast included) can leave this machine. Used by `npm test` and
# `npm run bench`. Root gets `unshare -n`; anyone else `unshare -rn` (a user namespace).
# Inside, loopback is brought up with multicast and a 224.0.0.0/4 route for mDNS.
# Already inside one (CR_NETNS=1)? Then the command just runs.
# With --optional first (the demo, which only ever uses loopback), a machine that allows
# no namespace runs the command directly instead of refusing.
set -euo pipefail

optional=0
if [ "${1:-}" = --optional ]; then
  optional=1
  shift
fi

if [ "${CR_NETNS:-}" = 1 ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  unshare_flags=(-n)
else
  unshare_flags=(-rn)
fi

if ! unshare "${unshare_flags[@]}" true 2>/dev/null; then
  if [ "$optional" = 1 ]; then
    exec "$@"
  fi
  echo "in-netns: this machine does not allow a private network namespace (unshare ${unshare_flags[*]})." >&2
  echo "in-netns: refusing to run networked code on a real interface; see README.md." >&2
  exit 1
fi

exec unshare "${unshare_flags[@]}" env CR_NETNS=1 bash -c '
  set -euo pipefail
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo
  exec "$@"
' in-netns "$@"
